/**
 * Walks a synthesized template the way AWS authorizes a delivery: for everything that sends to a queue,
 * topic, function or key of the stack (a CloudWatch alarm action, an EventBridge rule target or its
 * dead-letter queue, a Lambda on-failure destination, a function role publishing alerts), it builds the
 * request that sender makes and evaluates every policy on the way (resource policy, key policy, identity
 * policy) with its conditions. The senders are enumerated from the template, not listed by hand, so a new
 * alarm, rule or target is walked without touching this file.
 *
 * The evaluation is the part of the IAM logic these links need, for one account:
 * - an explicit Deny in any policy that applies refuses;
 * - a service principal needs an Allow in the resource's own policy (topic, queue, key policy, Lambda
 *   permission); a role of the account needs an Allow in its identity policy or in the resource policy;
 * - a KMS key needs its key policy to allow: the principal itself, or the account root (delegation to
 *   IAM) together with an identity policy that allows.
 * See: https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html
 * See: https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-default.html (account root delegation)
 * Condition operators it does not know throw, so the walk cannot pass by skipping a condition.
 */

export interface WalkEnvironment {
  readonly account: string;
  readonly region: string;
  readonly partition: string;
}

type Json = any;

/** One request a sender makes, and the link it crosses. */
export interface DeliveryRequest {
  /** e.g. `alarm GuardDeadLetterQueueAlarm -> topic GuardAlertTopic` */
  readonly link: string;
  readonly principal: { readonly service: string } | { readonly role: string };
  readonly action: string;
  readonly resourceArn: string;
  /** the logical id of the resource whose policy decides */
  readonly resourceId: string;
  readonly context: Readonly<Record<string, string>>;
}

export interface Refusal {
  readonly link: string;
  readonly action: string;
  readonly reason: string;
}

export interface WalkResult {
  /** every request the walk evaluated */
  readonly requests: readonly DeliveryRequest[];
  readonly refusals: readonly Refusal[];
}

const ARN_BY_TYPE: Record<string, (env: WalkEnvironment, id: string) => string> = {
  'AWS::SNS::Topic': (e, id) => `arn:${e.partition}:sns:${e.region}:${e.account}:${id}`,
  'AWS::SQS::Queue': (e, id) => `arn:${e.partition}:sqs:${e.region}:${e.account}:${id}`,
  'AWS::KMS::Key': (e, id) => `arn:${e.partition}:kms:${e.region}:${e.account}:key/${id}`,
  'AWS::Events::Rule': (e, id) => `arn:${e.partition}:events:${e.region}:${e.account}:rule/${id}`,
  'AWS::Lambda::Function': (e, id) => `arn:${e.partition}:lambda:${e.region}:${e.account}:function:${id}`,
  'AWS::IAM::Role': (e, id) => `arn:${e.partition}:iam::${e.account}:role/${id}`,
  'AWS::CloudWatch::Alarm': (e, id) => `arn:${e.partition}:cloudwatch:${e.region}:${e.account}:alarm:${id}`,
};

export class TemplateModel {
  private readonly resources: Record<string, Json>;

  constructor(
    template: Json,
    private readonly env: WalkEnvironment,
  ) {
    this.resources = template.Resources ?? {};
  }

  ofType(type: string): [string, Json][] {
    return Object.entries(this.resources).filter(([, r]) => r.Type === type);
  }

  typeOf(id: string): string | undefined {
    return this.resources[id]?.Type;
  }

  arnOf(id: string): string {
    const type = this.typeOf(id);
    const arn = type ? ARN_BY_TYPE[type] : undefined;
    if (!arn) throw new Error(`no ARN model for ${id} (${type ?? 'not in the template'})`);
    return arn(this.env, id);
  }

  /** The CloudFormation value as a string, pseudo parameters and our resources' ARNs filled in. */
  resolve(value: Json): string {
    if (typeof value === 'string') return value;
    if (value && typeof value === 'object') {
      if ('Ref' in value) {
        const ref = value.Ref as string;
        if (ref === 'AWS::Partition') return this.env.partition;
        if (ref === 'AWS::Region') return this.env.region;
        if (ref === 'AWS::AccountId') return this.env.account;
        if (ref === 'AWS::URLSuffix') return 'amazonaws.com';
        // Ref of a topic is its ARN; of a function or role its name, which these policies never compare.
        if (this.typeOf(ref) === 'AWS::SNS::Topic') return this.arnOf(ref);
        return ref;
      }
      if ('Fn::GetAtt' in value) {
        const [id, attribute] = value['Fn::GetAtt'] as [string, string];
        if (attribute === 'Arn' || attribute === 'TopicArn') return this.arnOf(id);
        return `${id}.${attribute}`;
      }
      if ('Fn::Join' in value) {
        const [separator, parts] = value['Fn::Join'] as [string, Json[]];
        return parts.map((part) => this.resolve(part)).join(separator);
      }
    }
    throw new Error(`cannot resolve ${JSON.stringify(value)}`);
  }

  /** The logical id a reference points to (Ref or GetAtt), when it is one of ours. */
  referencedId(value: Json): string | undefined {
    if (value && typeof value === 'object') {
      if ('Ref' in value && this.resources[value.Ref]) return value.Ref as string;
      if ('Fn::GetAtt' in value && this.resources[value['Fn::GetAtt'][0]]) return value['Fn::GetAtt'][0] as string;
    }
    return undefined;
  }

  /** The statements of the resource policies attached to a topic or queue. */
  resourcePolicyStatements(id: string): Json[] {
    const type = this.typeOf(id);
    const [policyType, listKey] =
      type === 'AWS::SNS::Topic'
        ? ['AWS::SNS::TopicPolicy', 'Topics']
        : type === 'AWS::SQS::Queue'
          ? ['AWS::SQS::QueuePolicy', 'Queues']
          : [];
    if (type === 'AWS::KMS::Key') return asArray(this.resources[id].Properties.KeyPolicy?.Statement);
    if (!policyType) throw new Error(`no resource policy model for ${id} (${type})`);
    return this.ofType(policyType)
      .filter(([, policy]) =>
        asArray(policy.Properties[listKey!]).some((target: Json) => this.referencedId(target) === id),
      )
      .flatMap(([, policy]) => asArray(policy.Properties.PolicyDocument.Statement));
  }

  /** The statements of the identity policies attached to a role. */
  identityStatements(roleId: string): Json[] {
    const inline = asArray(this.resources[roleId]?.Properties?.Policies).flatMap((p: Json) =>
      asArray(p.PolicyDocument.Statement),
    );
    const attached = this.ofType('AWS::IAM::Policy')
      .filter(([, policy]) => asArray(policy.Properties.Roles).some((role: Json) => this.referencedId(role) === roleId))
      .flatMap(([, policy]) => asArray(policy.Properties.PolicyDocument.Statement));
    return [...inline, ...attached];
  }

  /** The key a topic or queue is encrypted with, when it is one of ours. */
  encryptionKeyOf(id: string): string | undefined {
    const key = this.resources[id]?.Properties?.KmsMasterKeyId;
    return key === undefined ? undefined : this.referencedId(key);
  }
}

function asArray<T>(value: T | T[] | undefined): T[] {
  if (value === undefined) return [];
  return Array.isArray(value) ? value : [value];
}

/** IAM wildcard match (`*` any run, `?` one character); case-insensitive when asked (actions). */
function wildcardMatch(pattern: string, value: string, ignoreCase = false): boolean {
  const escaped = pattern
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${escaped}$`, ignoreCase ? 'i' : '').test(value);
}

/** Whether one condition block holds for the request context. */
function conditionHolds(model: TemplateModel, condition: Json, context: Readonly<Record<string, string>>): boolean {
  return Object.entries(condition ?? {}).every(([operator, entries]) => {
    const ifExists = operator.endsWith('IfExists');
    const base = ifExists ? operator.slice(0, -'IfExists'.length) : operator;
    return Object.entries(entries as Record<string, Json>).every(([key, expected]) => {
      const actual = Object.entries(context).find(([k]) => k.toLowerCase() === key.toLowerCase())?.[1];
      if (actual === undefined) return ifExists;
      const values = asArray(expected).map((v) => model.resolve(v));
      switch (base) {
        case 'StringEquals':
        case 'ArnEquals':
          return values.some((v) => v === actual);
        case 'StringEqualsIgnoreCase':
          return values.some((v) => v.toLowerCase() === actual.toLowerCase());
        case 'StringLike':
        case 'ArnLike':
          return values.some((v) => wildcardMatch(v, actual));
        case 'StringNotEquals':
        case 'ArnNotEquals':
          return values.every((v) => v !== actual);
        case 'StringNotLike':
        case 'ArnNotLike':
          return values.every((v) => !wildcardMatch(v, actual));
        case 'Bool':
          return values.some((v) => v.toLowerCase() === actual.toLowerCase());
        default:
          throw new Error(`condition operator ${operator} is not modelled; extend the walk before relying on it`);
      }
    });
  });
}

function principalMatches(model: TemplateModel, principal: Json, request: DeliveryRequest): boolean {
  if (principal === '*') return true;
  if (principal === undefined) return true; // identity policy statements have no principal
  if ('service' in request.principal) {
    const service = request.principal.service;
    return asArray(principal.Service).some((s: Json) => model.resolve(s) === service);
  }
  const roleArn = model.arnOf(request.principal.role);
  return asArray(principal.AWS).some((p: Json) => {
    const arn = model.resolve(p);
    return arn === '*' || arn === roleArn;
  });
}

function accountRootAllowed(model: TemplateModel, principal: Json, env: WalkEnvironment): boolean {
  const root = `arn:${env.partition}:iam::${env.account}:root`;
  return asArray(principal?.AWS).some((p: Json) => model.resolve(p) === root);
}

function statementApplies(model: TemplateModel, statement: Json, request: DeliveryRequest): boolean {
  const actions = asArray(statement.Action);
  if (!actions.some((a: Json) => wildcardMatch(a, request.action, true))) return false;
  const resources = asArray(statement.Resource).map((r: Json) => model.resolve(r));
  if (!resources.some((r) => wildcardMatch(r, request.resourceArn))) return false;
  return conditionHolds(model, statement.Condition, request.context);
}

/** Why AWS would refuse the request, or undefined when it would allow it. */
export function refusalOf(model: TemplateModel, env: WalkEnvironment, request: DeliveryRequest): string | undefined {
  const isKey = model.typeOf(request.resourceId) === 'AWS::KMS::Key';
  const isFunction = model.typeOf(request.resourceId) === 'AWS::Lambda::Function';
  const resourceStatements = isFunction
    ? lambdaPermissionStatements(model, request.resourceId)
    : model.resourcePolicyStatements(request.resourceId);
  const identity = 'role' in request.principal ? model.identityStatements(request.principal.role) : [];

  const applying = (statements: Json[], withPrincipal: boolean) =>
    statements.filter(
      (s) => statementApplies(model, s, request) && (!withPrincipal || principalMatches(model, s.Principal, request)),
    );
  const resourceApplying = applying(resourceStatements, true);
  const identityApplying = applying(identity, false);

  const deny = [...resourceApplying, ...identityApplying].find((s) => s.Effect === 'Deny');
  if (deny) return `explicitly denied by ${deny.Sid ?? JSON.stringify(deny)}`;

  const resourceAllows = resourceApplying.some((s) => s.Effect === 'Allow');
  const identityAllows = identityApplying.some((s) => s.Effect === 'Allow');
  if (isKey) {
    if (resourceAllows) return undefined;
    const delegated = resourceStatements.some(
      (s) => s.Effect === 'Allow' && accountRootAllowed(model, s.Principal, env) && statementApplies(model, s, request),
    );
    if ('role' in request.principal && delegated && identityAllows) return undefined;
    return 'no key policy statement allows it (directly, or through the account root and an identity policy)';
  }
  if ('service' in request.principal) {
    return resourceAllows ? undefined : 'no resource-based policy allows it';
  }
  return resourceAllows || identityAllows ? undefined : 'neither the identity policy nor the resource policy allows it';
}

/** A Lambda permission as a resource policy statement (the shape the function's policy gets). */
function lambdaPermissionStatements(model: TemplateModel, functionId: string): Json[] {
  return model
    .ofType('AWS::Lambda::Permission')
    .filter(([, permission]) => model.referencedId(permission.Properties.FunctionName) === functionId)
    .map(([id, permission]) => {
      const p = permission.Properties;
      const condition: Json = {};
      if (p.SourceArn !== undefined) condition.ArnLike = { 'aws:SourceArn': p.SourceArn };
      if (p.SourceAccount !== undefined) condition.StringEquals = { 'aws:SourceAccount': p.SourceAccount };
      return {
        Sid: id,
        Effect: 'Allow',
        Principal: String(p.Principal).endsWith('.amazonaws.com') ? { Service: p.Principal } : { AWS: p.Principal },
        Action: p.Action,
        Resource: model.arnOf(functionId),
        Condition: condition,
      };
    });
}

/** What SNS asks KMS for when a sender publishes to an encrypted topic (aws/aws-cdk#11121). */
const TOPIC_KEY_ACTIONS = ['kms:GenerateDataKey', 'kms:Decrypt'];
/** What SQS asks KMS for when a sender sends to a queue encrypted with a KMS key. */
const QUEUE_KEY_ACTIONS = ['kms:GenerateDataKey', 'kms:Decrypt'];

/** The requests every sender in the template makes, enumerated from the template. */
export function deliveryRequests(model: TemplateModel, env: WalkEnvironment): DeliveryRequest[] {
  const requests: DeliveryRequest[] = [];
  const secure = { 'aws:SecureTransport': 'true' };

  const toTarget = (
    link: string,
    principal: DeliveryRequest['principal'],
    targetId: string,
    context: Record<string, string>,
  ): void => {
    const type = model.typeOf(targetId);
    const resourceArn = model.arnOf(targetId);
    const base = { principal, resourceArn, context: { ...secure, ...context } };
    const viaKey = (key: string, action: string): DeliveryRequest => ({
      ...base,
      link: `${link} -> key ${key}`,
      action,
      resourceId: key,
      resourceArn: model.arnOf(key),
    });
    if (type === 'AWS::SNS::Topic') {
      requests.push({ ...base, link, action: 'sns:Publish', resourceId: targetId });
      const key = model.encryptionKeyOf(targetId);
      for (const action of key ? TOPIC_KEY_ACTIONS : []) {
        requests.push(viaKey(key!, action));
      }
    } else if (type === 'AWS::SQS::Queue') {
      requests.push({ ...base, link, action: 'sqs:SendMessage', resourceId: targetId });
      const key = model.encryptionKeyOf(targetId);
      for (const action of key ? QUEUE_KEY_ACTIONS : []) {
        requests.push(viaKey(key!, action));
      }
    } else if (type === 'AWS::Lambda::Function') {
      requests.push({ ...base, link, action: 'lambda:InvokeFunction', resourceId: targetId });
    } else {
      throw new Error(`${link}: target type ${type} is not modelled; extend the walk`);
    }
  };

  // CloudWatch alarms publish as cloudwatch.amazonaws.com, on behalf of the alarm's ARN.
  for (const [alarmId, alarm] of model.ofType('AWS::CloudWatch::Alarm')) {
    for (const actionsKey of ['AlarmActions', 'OKActions', 'InsufficientDataActions']) {
      for (const action of asArray(alarm.Properties[actionsKey])) {
        const targetId = model.referencedId(action);
        if (!targetId) continue; // a topic of someone else: its policy is not in this template
        toTarget(`alarm ${alarmId} ${actionsKey} -> ${targetId}`, { service: 'cloudwatch.amazonaws.com' }, targetId, {
          'aws:SourceAccount': env.account,
          'aws:SourceArn': model.arnOf(alarmId),
        });
      }
    }
  }

  // EventBridge rules deliver as events.amazonaws.com on behalf of the rule, to targets and their DLQs.
  for (const [ruleId, rule] of model.ofType('AWS::Events::Rule')) {
    const context = { 'aws:SourceAccount': env.account, 'aws:SourceArn': model.arnOf(ruleId) };
    for (const target of asArray(rule.Properties.Targets) as Json[]) {
      if (target.RoleArn !== undefined) {
        throw new Error(`rule ${ruleId}: targets invoked through a role are not modelled`);
      }
      const targetId = model.referencedId(target.Arn);
      if (!targetId) throw new Error(`rule ${ruleId}: target ${JSON.stringify(target.Arn)} is not in the template`);
      toTarget(`rule ${ruleId} -> ${targetId}`, { service: 'events.amazonaws.com' }, targetId, context);
      const dlq = target.DeadLetterConfig?.Arn;
      if (dlq !== undefined) {
        const dlqId = model.referencedId(dlq)!;
        toTarget(`rule ${ruleId} dead letters -> ${dlqId}`, { service: 'events.amazonaws.com' }, dlqId, context);
      }
    }
  }

  // Lambda sends failed asynchronous invocations to the on-failure destination with the function's role.
  for (const [configId, config] of model.ofType('AWS::Lambda::EventInvokeConfig')) {
    const destination = config.Properties.DestinationConfig?.OnFailure?.Destination;
    if (destination === undefined) continue;
    const functionId = model.referencedId(config.Properties.FunctionName);
    const fn = model.ofType('AWS::Lambda::Function').find(([id]) => id === functionId)?.[1];
    const roleId = fn ? model.referencedId(fn.Properties.Role) : undefined;
    if (!roleId) throw new Error(`${configId}: cannot find the function's role`);
    const destinationId = model.referencedId(destination)!;
    toTarget(`${configId} on failure -> ${destinationId}`, { role: roleId }, destinationId, {
      'aws:SourceAccount': env.account,
    });
  }

  // Function roles that publish alerts: every role whose identity policy names sns:Publish on a topic of ours.
  for (const [roleId] of model.ofType('AWS::IAM::Role')) {
    for (const statement of model.identityStatements(roleId)) {
      if (statement.Effect !== 'Allow' || !asArray(statement.Action).includes('sns:Publish')) continue;
      for (const resource of asArray(statement.Resource)) {
        const topicId = model.referencedId(resource);
        if (topicId) toTarget(`role ${roleId} -> ${topicId}`, { role: roleId }, topicId, {});
      }
    }
  }
  return requests;
}

/** Every delivery the template sets up, and each link that AWS would refuse. */
export function walkDeliveries(template: Json, env: WalkEnvironment): WalkResult {
  const model = new TemplateModel(template, env);
  const requests = deliveryRequests(model, env);
  const refusals = requests.flatMap((request) => {
    const reason = refusalOf(model, env, request);
    return reason ? [{ link: request.link, action: request.action, reason }] : [];
  });
  return { requests, refusals };
}
