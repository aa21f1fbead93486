/**
 * What each function's role may do, and, where the grant needs a wildcard, the cdk-nag acknowledgement with its
 * reason next to it. Resource scoping follows the Service Authorization Reference; `*` only where an action
 * has no resource type there.
 */
import { ArnFormat, Stack, Token, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as sns from 'aws-cdk-lib/aws-sns';
import { IN_USE_INDEX_KEYS, replicationWarningKey } from '../lambda/core/in-use-index/keys';
import { workloadReaderRoleArn, workloadReaderRoleName } from '../lambda/core/workloads';
import type { IConstruct } from 'constructs';
import type { ResolvedSettings } from './settings';

/**
 * The push function: protect in scope, read what runs, publish alerts and, opt-in, look up who pushed.
 */
export function grantPushPermissions(role: iam.Role, settings: ResolvedSettings, topic: sns.ITopic): void {
  grantProtect(role, settings.repositories);
  grantInventoryReads(role);
  topic.grantPublish(role);
  if (settings.lookupPushers) {
    // LookupEvents has no resource type in the Service Authorization Reference: `*` is the only resource.
    // See: https://docs.aws.amazon.com/service-authorization/latest/reference/list_awscloudtrail.html
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({ sid: 'LookUpWhoPushed', actions: ['cloudtrail:LookupEvents'], resources: ['*'] }),
    );
  }
  acknowledgeWildcards(role, settings.repositories.length === 0, settings.lookupPushers);
}

/**
 * The reconcile function: what the push function may do except the CloudTrail lookup, plus release and the
 * lifecycle check as configured.
 */
export function grantReconcilePermissions(role: iam.Role, settings: ResolvedSettings, topic: sns.ITopic): void {
  grantProtect(role, settings.repositories);
  grantReconcileChanges(role, settings.repositories, settings.releaseAfterDays > 0);
  grantLifecycleCheck(role, settings);
  grantInventoryReads(role);
  topic.grantPublish(role);
  // The replicated-deletions warning reads the registry's replication rules once a run. DescribeRegistry has no
  // resource type in the Service Authorization Reference: `*` is the only resource (read-only).
  // See: https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonelasticcontainerregistry.html
  role.addToPrincipalPolicy(
    new iam.PolicyStatement({ sid: 'ReadRegistryReplication', actions: ['ecr:DescribeRegistry'], resources: ['*'] }),
  );
  acknowledgeWildcards(role, settings.repositories.length === 0, false, true);
}

/**
 * The reconcile as the list of the in-use index: the calls `DynamoDbInUseIndex` makes for it and no other, on
 * the table and its `byWorkload` index. The table is encrypted with the AWS managed key, whose key policy
 * admits principals of the account through DynamoDB, so no KMS grant is needed.
 * See: https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazondynamodb.html
 */
export function grantInUseIndexList(role: iam.Role, table: Pick<dynamodb.ITable, 'tableArn'>): void {
  role.addToPrincipalPolicy(
    new iam.PolicyStatement({
      sid: 'KeepInUseIndexEntries',
      actions: ['dynamodb:PutItem', 'dynamodb:DeleteItem', 'dynamodb:UpdateItem'],
      resources: [table.tableArn],
    }),
  );
  role.addToPrincipalPolicy(
    new iam.PolicyStatement({
      sid: 'ReadInUseIndexByWorkload',
      actions: ['dynamodb:Query'],
      resources: [`${table.tableArn}/index/${IN_USE_INDEX_KEYS.byWorkload.indexName}`],
    }),
  );
  // The replicated-deletions warning is remembered in one item (written with the PutItem above) and read back by
  // GetItem: only that item, by its partition key (`dynamodb:LeadingKeys`), so the reconcile reads nothing else.
  // See: https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/specifying-conditions.html
  const stack = Stack.of(role);
  const { pk } = replicationWarningKey({ account: stack.account, region: stack.region });
  role.addToPrincipalPolicy(
    new iam.PolicyStatement({
      sid: 'ReadReplicatedDeletionsWarning',
      actions: ['dynamodb:GetItem'],
      resources: [table.tableArn],
      conditions: { 'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': [pk] } },
    }),
  );
  // The catch-up reads each workload's list status item (`workload#<account>#<region>`) to find the overdue ones;
  // with organizational units the accounts are known only at run time, so by the key's prefix.
  role.addToPrincipalPolicy(
    new iam.PolicyStatement({
      sid: 'ReadWorkloadListStatus',
      actions: ['dynamodb:GetItem'],
      resources: [table.tableArn],
      conditions: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['workload#*'] } },
    }),
  );
}

/**
 * The watch: check and protect a digest seen in use for the first time (the push path's protect step, in the
 * repositories in scope), publish alerts, and write task sightings to the index: `UpdateItem` (also what each
 * `Update` action of a `TransactWriteItems` is authorized as) and `Query` on the table. No ECS permission: a
 * task event carries its digests.
 * See: https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/transaction-apis-iam.html
 */
export function grantWatchPermissions(
  role: iam.Role,
  settings: ResolvedSettings,
  topic: sns.ITopic,
  table: Pick<dynamodb.ITable, 'tableArn'>,
): void {
  grantProtect(role, settings.repositories);
  topic.grantPublish(role);
  role.addToPrincipalPolicy(
    new iam.PolicyStatement({
      sid: 'RecordWatchedTasks',
      actions: ['dynamodb:UpdateItem', 'dynamodb:Query'],
      resources: [table.tableArn],
    }),
  );
  const stack = Stack.of(role);
  if (settings.repositories.length === 0) {
    const shown = (value: string, pseudo: string): string => (Token.isUnresolved(value) ? `<${pseudo}>` : value);
    const where = `${shown(stack.region, 'AWS::Region')}:${shown(stack.account, 'AWS::AccountId')}`;
    Validations.of(role).acknowledge({
      id: `AwsSolutions-IAM5[Resource::arn:${shown(stack.partition, 'AWS::Partition')}:ecr:${where}:repository/*]`,
      reason:
        'No repositories were named, so every repository of this account and region is in scope by design; ' +
        'the watch only reads and re-puts manifests and restores archived in-use images.',
    });
  }
  Validations.of(role).acknowledge({
    id: 'AwsSolutions-IAM5[Action::kms:GenerateDataKey*]',
    reason:
      'Publishing to the KMS-encrypted alert topic needs data keys (the grant sns.Topic.grantPublish makes); ' +
      'the resource is the topic key only.',
  });
  grantWatchReads(role);
}

/**
 * The watch reads the one service a deployment event names (DescribeServices, DescribeServiceRevisions, and
 * DescribeTaskDefinition for a revision older than 2024-10-25), the one daemon revision a daemon deployment event
 * names (DescribeDaemonRevisions) and the one function a Lambda call names
 * (GetFunction), in its own account and region; other workloads it reads through their reader roles. No list call.
 */
function grantWatchReads(role: iam.Role): void {
  const stack = Stack.of(role);
  const ecsArn = (resource: string): string => stack.formatArn({ service: 'ecs', resource, resourceName: '*' });
  role.addToPrincipalPolicy(
    new iam.PolicyStatement({
      sid: 'ReadNamedService',
      actions: ['ecs:DescribeServices', 'ecs:DescribeServiceRevisions'],
      resources: [ecsArn('service'), ecsArn('service-revision')],
    }),
  );
  // DescribeDaemonRevisions authorizes on both the daemon and the daemon revision.
  // See: https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonelasticcontainerservice.html
  role.addToPrincipalPolicy(
    new iam.PolicyStatement({
      sid: 'ReadNamedDaemonRevision',
      actions: ['ecs:DescribeDaemonRevisions'],
      resources: [ecsArn('daemon'), ecsArn('daemon-revision')],
    }),
  );
  role.addToPrincipalPolicy(
    new iam.PolicyStatement({
      sid: 'ReadUndescribableRevision',
      actions: ['ecs:DescribeTaskDefinition'],
      resources: ['*'],
    }),
  );
  role.addToPrincipalPolicy(
    new iam.PolicyStatement({
      sid: 'ReadNamedFunction',
      actions: ['lambda:GetFunction'],
      resources: [
        stack.formatArn({
          service: 'lambda',
          resource: 'function',
          resourceName: '*',
          arnFormat: ArnFormat.COLON_RESOURCE_NAME,
        }),
      ],
    }),
  );
  const shown = (value: string, pseudo: string): string => (Token.isUnresolved(value) ? `<${pseudo}>` : value);
  const arnStart = (service: string): string =>
    `arn:${shown(stack.partition, 'AWS::Partition')}:${service}:${shown(stack.region, 'AWS::Region')}:` +
    `${shown(stack.account, 'AWS::AccountId')}:`;
  const acknowledge = (finding: string, reason: string): void =>
    Validations.of(role).acknowledge({ id: `AwsSolutions-IAM5[${finding}]`, reason });
  acknowledge(
    `Resource::${arnStart('ecs')}service/*`,
    'A deployment event may name any service of the account; the watch reads that one (DescribeServices); read-only.',
  );
  acknowledge(
    `Resource::${arnStart('ecs')}service-revision/*`,
    'The named service revisions hold the pinned digests (DescribeServiceRevisions); read-only.',
  );
  acknowledge(
    `Resource::${arnStart('ecs')}daemon/*`,
    'A daemon deployment event may name any daemon of the account; the watch reads its target revision ' +
      '(DescribeDaemonRevisions authorizes on the daemon too); read-only.',
  );
  acknowledge(
    `Resource::${arnStart('ecs')}daemon-revision/*`,
    'The named daemon revision holds the pinned digests (DescribeDaemonRevisions); read-only.',
  );
  acknowledge(
    'Resource::*',
    'ecs:DescribeTaskDefinition has no resource type in the Service Authorization Reference; the watch calls it ' +
      'only for a service revision that cannot be described (created before 2024-10-25); read-only.',
  );
  acknowledge(
    `Resource::${arnStart('lambda')}function:*`,
    'A Lambda API call may name any function of the account; the watch reads that one version (GetFunction); ' +
      'read-only.',
  );
}

/**
 * The push path reading the index: the workload's status item (`GetItem`) and one `Query` per pushed
 * repository, on the table only.
 */
export function grantInUseIndexRead(role: iam.Role, table: Pick<dynamodb.ITable, 'tableArn'>): void {
  role.addToPrincipalPolicy(
    new iam.PolicyStatement({
      sid: 'ReadInUseIndex',
      actions: ['dynamodb:GetItem', 'dynamodb:Query'],
      resources: [table.tableArn],
    }),
  );
}

/** Repository ARNs in scope: the named ones, or `repository/*` of this account and region. */
function repositoryArns(scope: IConstruct, repositories: readonly string[]): string[] {
  const stack = Stack.of(scope);
  return (repositories.length === 0 ? ['*'] : repositories).map((name) =>
    stack.formatArn({ service: 'ecr', resource: 'repository', resourceName: name }),
  );
}

/**
 * ECR: read and re-put manifests, and restore archived in-use images (UpdateImageStorageClass), only in
 * the repositories in scope: the protect step both functions run.
 * Resource scoping follows the Service Authorization Reference; `*` only where an action has no
 * resource type there.
 * See: https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonelasticcontainerregistry.html
 */
function grantProtect(role: iam.Role, repositories: readonly string[]): void {
  role.addToPrincipalPolicy(
    new iam.PolicyStatement({
      sid: 'ProtectDigestsInScope',
      actions: ['ecr:BatchGetImage', 'ecr:PutImage', 'ecr:DescribeImages'],
      resources: repositoryArns(role, repositories),
    }),
  );
  role.addToPrincipalPolicy(
    new iam.PolicyStatement({
      sid: 'RestoreArchivedImagesInScope',
      actions: ['ecr:UpdateImageStorageClass'],
      resources: repositoryArns(role, repositories),
    }),
  );
}

/**
 * What only the reconcile changes, on the repository resource type as the reference lists for each:
 * with release on, removing a protective tag
 * (BatchDeleteImage, by tag only) and, when no repositories are named, listing the registry's
 * repositories (DescribeRepositories), because release must also visit repositories nobody uses any
 * more. DescribeRepositories without names returns the repositories the caller may describe, so
 * `repository/*` of this account and region is enough; the AWS CDK's own auto-delete-images provider
 * grants it the same way.
 * See: https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonelasticcontainerregistry.html
 * See: https://docs.aws.amazon.com/AmazonECR/latest/APIReference/API_DescribeRepositories.html
 */
function grantReconcileChanges(role: iam.Role, repositories: readonly string[], release: boolean): void {
  if (!release) return;
  const inScope = repositoryArns(role, repositories);
  role.addToPrincipalPolicy(
    new iam.PolicyStatement({
      sid: 'ReleaseProtectiveTagsInScope',
      actions: ['ecr:BatchDeleteImage'],
      resources: inScope,
    }),
  );
  if (repositories.length === 0) {
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'ListRepositoriesToRelease',
        actions: ['ecr:DescribeRepositories'],
        resources: inScope,
      }),
    );
  }
}

/**
 * The lifecycle check, on the repositories in scope: read the policy; with `preview`, run ECR's preview
 * of it; with the opt-in shield, put the policy with the shield rule added.
 * See: https://docs.aws.amazon.com/AmazonECR/latest/userguide/LifecyclePolicies.html
 */
function grantLifecycleCheck(role: iam.Role, settings: ResolvedSettings): void {
  if (settings.lifecycleCheck === 'off') return;
  const actions = ['ecr:GetLifecyclePolicy'];
  if (settings.lifecycleCheck === 'preview') {
    actions.push('ecr:StartLifecyclePolicyPreview', 'ecr:GetLifecyclePolicyPreview');
  }
  const inScope = repositoryArns(role, settings.repositories);
  role.addToPrincipalPolicy(
    new iam.PolicyStatement({ sid: 'CheckLifecyclePoliciesInScope', actions, resources: inScope }),
  );
  if (!settings.installLifecycleShield) return;
  role.addToPrincipalPolicy(
    new iam.PolicyStatement({
      sid: 'InstallLifecycleShieldInScope',
      actions: ['ecr:PutLifecyclePolicy'],
      resources: inScope,
    }),
  );
}

/**
 * ECS and Lambda: read what runs, for the in-use inventory both functions take.
 */
function grantInventoryReads(role: iam.Role): void {
  for (const statement of inventoryReadStatements(role)) role.addToPrincipalPolicy(statement);
}

/**
 * What the in-use inventory reads, the one list of it: the guard's functions read their own account and region
 * (`regions` absent), a workload account's reader role (lib/workload-stack.ts) its account in each listed region.
 * See: https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonelasticcontainerservice.html
 * See: https://docs.aws.amazon.com/service-authorization/latest/reference/list_awslambda.html
 */
export function inventoryReadStatements(scope: IConstruct, regions?: readonly string[]): iam.PolicyStatement[] {
  const stack = Stack.of(scope);
  const inRegions = (format: (region?: string) => string): string[] =>
    regions === undefined ? [format()] : regions.map((region) => format(region));
  const ecsArns = (resource: string): string[] =>
    inRegions((region) =>
      stack.formatArn({ service: 'ecs', resource, resourceName: '*', ...(region !== undefined ? { region } : {}) }),
    );
  return [
    // Actions the reference lists without a resource type, so `*` is the only resource that works:
    // ListClusters, ListServices (condition key ecs:cluster only), DescribeTaskDefinition.
    // ListTasks names container-instance, but Fargate tasks have no container instance and AWS's own
    // examples grant it on `*` narrowed by ecs:cluster; a wrong guess here would blind the inventory.
    // ListDaemons names no resource type either (condition key ecs:cluster only).
    new iam.PolicyStatement({
      sid: 'ListWhatRunsInEcs',
      actions: [
        'ecs:ListClusters',
        'ecs:ListServices',
        'ecs:ListTasks',
        'ecs:DescribeTaskDefinition',
        'ecs:ListDaemons',
      ],
      resources: ['*'],
    }),
    new iam.PolicyStatement({
      sid: 'DescribeWhatRunsInEcs',
      actions: [
        'ecs:DescribeServices',
        'ecs:DescribeTasks',
        'ecs:DescribeServiceRevisions',
        'ecs:DescribeServiceDeployments',
        'ecs:ListServiceDeployments',
        // ECS Managed Daemons: DescribeDaemon on `daemon`, DescribeDaemonRevisions on `daemon` and `daemon-revision`.
        'ecs:DescribeDaemon',
        'ecs:DescribeDaemonRevisions',
      ],
      resources: ['service', 'task', 'service-revision', 'service-deployment', 'daemon', 'daemon-revision'].flatMap(
        ecsArns,
      ),
    }),
    // Lambda functions packaged as images pin a digest too (GetFunction → Code.ResolvedImageUri).
    new iam.PolicyStatement({
      sid: 'ListImageFunctions',
      actions: ['lambda:ListFunctions'],
      resources: ['*'],
    }),
    new iam.PolicyStatement({
      sid: 'ReadImageFunctions',
      // GetFunction → Code.ResolvedImageUri; ListAliases → the published versions aliases route to.
      actions: ['lambda:GetFunction', 'lambda:ListAliases'],
      resources: inRegions((region) =>
        stack.formatArn({
          service: 'lambda',
          resource: 'function',
          resourceName: '*',
          arnFormat: ArnFormat.COLON_RESOURCE_NAME,
          ...(region !== undefined ? { region } : {}),
        }),
      ),
    }),
  ];
}

/**
 * The reconcile as the list of other accounts: `sts:AssumeRole` on exactly the reader role of each workload
 * account, whose name follows from this guard's region (lambda/core/workloads.ts).
 * See: https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRole.html
 */
export function grantAssumeWorkloadReaders(role: iam.Role, accounts: readonly string[]): void {
  const stack = Stack.of(role);
  role.addToPrincipalPolicy(
    new iam.PolicyStatement({
      sid: 'AssumeWorkloadReaders',
      actions: ['sts:AssumeRole'],
      resources: accounts.map((account) => workloadReaderRoleArn(stack.partition, account, stack.region)),
    }),
  );
  if (accounts.includes('*')) {
    const partition = Token.isUnresolved(stack.partition) ? '<AWS::Partition>' : stack.partition;
    const region = Token.isUnresolved(stack.region) ? '<AWS::Region>' : stack.region;
    Validations.of(role).acknowledge({
      id: `AwsSolutions-IAM5[Resource::arn:${partition}:iam::*:role/${workloadReaderRoleName(region)}]`,
      reason:
        'The accounts of the organizational units are discovered at run time, so the reader role is named in any ' +
        "account; each reader's trust admits only the guard's reconcile and watch roles (lib/workload-stack.ts), " +
        "and only reader roles of this guard's name match.",
    });
  }
}

/**
 * The reconcile's discovery of the accounts of organizational units: the two read calls it makes, on `*`. Both work
 * only from the management account or a delegated administrator; the Service Authorization Reference lists no
 * resource type for either, so they cannot be narrowed to the OUs.
 * See: https://docs.aws.amazon.com/organizations/latest/APIReference/API_ListChildren.html
 * See: https://docs.aws.amazon.com/organizations/latest/APIReference/API_ListAccountsForParent.html
 * See: https://docs.aws.amazon.com/service-authorization/latest/reference/list_awsorganizations.html
 */
export function grantDiscoverOrganizationAccounts(role: iam.Role): void {
  role.addToPrincipalPolicy(
    new iam.PolicyStatement({
      sid: 'DiscoverOrganizationAccounts',
      actions: ['organizations:ListAccountsForParent', 'organizations:ListChildren'],
      resources: ['*'],
    }),
  );
}

/**
 * cdk-nag names a wildcard finding after the resource as synthesized: pseudo parameters that are still
 * tokens appear as `<AWS::Region>`, concrete values (a stack with an explicit env) as themselves.
 */
function acknowledgeWildcards(
  role: iam.Role,
  allRepositories: boolean,
  lookupPushers = false,
  describeRegistry = false,
): void {
  const stack = Stack.of(role);
  const shown = (value: string, pseudo: string): string => (Token.isUnresolved(value) ? `<${pseudo}>` : value);
  const arnStart = (service: string): string =>
    `arn:${shown(stack.partition, 'AWS::Partition')}:${service}:${shown(stack.region, 'AWS::Region')}:` +
    `${shown(stack.account, 'AWS::AccountId')}:`;
  const acknowledge = (finding: string, reason: string): void =>
    Validations.of(role).acknowledge({ id: `AwsSolutions-IAM5[${finding}]`, reason });
  const ecs = (resource: string): string => `Resource::${arnStart('ecs')}${resource}/*`;

  if (allRepositories) {
    acknowledge(
      `Resource::${arnStart('ecr')}repository/*`,
      'No repositories were named, so every repository of this account and region is in scope by design; ' +
        'actions stay limited to reading and re-putting manifests, plus for the reconcile restoring archived ' +
        'images and, only with release on, removing protective tags by tag and listing repositories.',
    );
  }
  acknowledge(
    'Resource::*',
    'ecs:ListClusters, ecs:ListServices, ecs:ListDaemons, ecs:DescribeTaskDefinition and lambda:ListFunctions ' +
      'have no resource type in the Service Authorization Reference; ecs:ListTasks must see Fargate tasks, which have no ' +
      'container instance. All are read-only.' +
      (lookupPushers
        ? ' cloudtrail:LookupEvents (opt-in lookupPushers) has no resource type either; it reads event history ' +
          'to name who pushed a tag, at most 3 requests per alert.'
        : '') +
      (describeRegistry
        ? ' ecr:DescribeRegistry has no resource type either; it reads the replication rules once a run.'
        : ''),
  );
  acknowledge(
    ecs('service'),
    'The inventory must read every ECS service of the account (DescribeServices, revisions, deployments); read-only.',
  );
  acknowledge(ecs('task'), 'The inventory must read every running ECS task of the account (DescribeTasks); read-only.');
  acknowledge(
    ecs('service-revision'),
    'The current revisions of every service hold the pinned digests (DescribeServiceRevisions); read-only.',
  );
  acknowledge(
    ecs('service-deployment'),
    'In-progress deployments name what a rollback relaunches (DescribeServiceDeployments); read-only.',
  );
  acknowledge(
    ecs('daemon'),
    'The inventory must read every ECS Managed Daemon of the account (DescribeDaemon); read-only.',
  );
  acknowledge(
    ecs('daemon-revision'),
    'The current revisions of every daemon hold the pinned digests (DescribeDaemonRevisions); read-only.',
  );
  acknowledge(
    `Resource::${arnStart('lambda')}function:*`,
    'Functions packaged as images pin a digest; the inventory reads every function (GetFunction); read-only.',
  );
  acknowledge(
    'Action::kms:GenerateDataKey*',
    'Publishing to the KMS-encrypted alert topic needs data keys (the grant sns.Topic.grantPublish makes); ' +
      'the resource is the topic key only.',
  );
}
