/**
 * Where alerts and alarms go: the topic the deployer gives, or a topic this construct creates with its own
 * customer managed key, each with the policy statements that let this account's CloudWatch alarms use it.
 */
import { ArnFormat, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import type { Construct } from 'constructs';

export interface AlertTopic {
  readonly topic: sns.ITopic;
  /** Undefined when the deployer gave the topic. */
  readonly topicKey?: kms.Key;
}

/**
 * The alert topic, created in `scope` (ids `TopicKey`, `AlertTopic`) unless `existing` is given, with one
 * email subscription per address.
 */
export function createAlertTopic(
  scope: Construct,
  existing: sns.ITopic | undefined,
  alertEmails: readonly string[],
): AlertTopic {
  const created = existing ? { topic: existing } : createEncryptedTopic(scope);
  for (const address of alertEmails) {
    created.topic.addSubscription(new subscriptions.EmailSubscription(address));
  }
  return created;
}

function createEncryptedTopic(scope: Construct): Required<AlertTopic> {
  const topicKey = new kms.Key(scope, 'TopicKey', {
    description: 'Encrypts the ECR digest guard alert topic',
    enableKeyRotation: true,
  });
  // CloudWatch alarms publish to an encrypted topic only if the key lets CloudWatch use it; the
  // AWS managed key alias/aws/sns cannot be changed to allow that, hence a customer managed key.
  // See: https://docs.aws.amazon.com/sns/latest/dg/sns-key-management.html#compatibility-with-aws-services
  // See: https://repost.aws/knowledge-center/cloudwatch-configure-alarm-sns
  // Scoped to this account's alarms so CloudWatch cannot be made to use the key (or, below, publish)
  // on behalf of another account's alarm (confused deputy).
  // See: https://docs.aws.amazon.com/sns/latest/dg/sns-key-management.html#compatibility-with-aws-services
  topicKey.addToResourcePolicy(
    new iam.PolicyStatement({
      sid: 'AllowCloudWatchAlarmsToUseTheKey',
      principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
      actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
      resources: ['*'],
      conditions: fromThisAccountsAlarms(scope),
    }),
  );
  const topic = new sns.Topic(scope, 'AlertTopic', {
    displayName: 'ECR digest guard',
    masterKey: topicKey,
    enforceSSL: true,
  });
  // The topic policy CloudFormation attaches (here for enforceSSL) replaces the default one SNS creates,
  // so without this Allow every alarm fails with "… is not authorized to perform: SNS:Publish … because
  // no resource-based policy allows the SNS:Publish action".
  // See: https://repost.aws/knowledge-center/cloudwatch-receive-sns-for-alarm-trigger
  // See: https://github.com/aws-solutions/automated-security-response-on-aws/issues/43
  topic.addToResourcePolicy(
    new iam.PolicyStatement({
      sid: 'AllowCloudWatchAlarmsToPublish',
      principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
      actions: ['sns:Publish'],
      resources: [topic.topicArn],
      conditions: fromThisAccountsAlarms(scope),
    }),
  );
  return { topic, topicKey };
}

/** Conditions that hold only for requests CloudWatch makes on behalf of an alarm of this account and region. */
function fromThisAccountsAlarms(scope: Construct): Record<string, Record<string, string>> {
  const stack = Stack.of(scope);
  return {
    StringEquals: { 'aws:SourceAccount': stack.account },
    ArnLike: {
      'aws:SourceArn': stack.formatArn({
        service: 'cloudwatch',
        resource: 'alarm',
        resourceName: '*',
        arnFormat: ArnFormat.COLON_RESOURCE_NAME,
      }),
    },
  };
}
