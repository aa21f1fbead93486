/**
 * The events the simulated registry records, and how an EventBridge rule with an SQS target delivers them
 * to a Lambda function (an `SQSEvent` batch whose record bodies are the EventBridge events as JSON).
 */
import { createHash, randomUUID } from 'node:crypto';
import type { SQSEvent, SQSRecord } from 'aws-lambda';
import type { PolicyExecutionEvent } from './ecr';

/**
 * An `ECR Image Action` event as EventBridge carries it.
 * See: https://docs.aws.amazon.com/AmazonECR/latest/userguide/ecr-eventbridge.html
 */
export interface EcrImageActionEvent {
  readonly version: '0';
  readonly id: string;
  readonly 'detail-type': 'ECR Image Action';
  readonly source: 'aws.ecr';
  readonly account: string;
  /** ISO 8601 without milliseconds, as EventBridge writes it (`2019-11-16T01:54:34Z`) */
  readonly time: string;
  readonly region: string;
  readonly resources: readonly string[];
  readonly detail: {
    readonly 'action-type': 'PUSH' | 'DELETE';
    readonly result: 'SUCCESS' | 'FAILURE';
    readonly 'repository-name': string;
    readonly 'image-digest': string;
    /** absent when the push or deletion named no tag (*inference*, see `SimEcr`) */
    readonly 'image-tag'?: string;
    readonly 'manifest-media-type'?: string;
    readonly 'artifact-media-type'?: string;
  };
}

/**
 * An `ECS Task State Change` event as EventBridge carries it (the fields of the documented example the
 * simulated ECS fills in).
 * See: https://docs.aws.amazon.com/AmazonECS/latest/developerguide/ecs_task_events.html
 */
export interface EcsTaskStateChangeEvent {
  readonly version: '0';
  readonly id: string;
  readonly 'detail-type': 'ECS Task State Change';
  readonly source: 'aws.ecs';
  readonly account: string;
  readonly time: string;
  readonly region: string;
  readonly resources: readonly string[];
  readonly detail: {
    readonly clusterArn: string;
    readonly containers: readonly {
      readonly name: string;
      readonly image: string;
      readonly imageDigest?: string;
      readonly lastStatus: string;
      readonly taskArn: string;
    }[];
    readonly createdAt: string;
    readonly desiredStatus: string;
    readonly group: string;
    readonly lastStatus: string;
    readonly taskArn: string;
    readonly taskDefinitionArn: string;
    readonly updatedAt: string;
    /** increments with each change of the task; a duplicate delivery repeats it */
    readonly version: number;
    readonly stoppedReason?: string;
  };
}

/** EventBridge's `time` format: ISO 8601 in UTC, seconds precision. */
export function eventTime(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/**
 * The envelope EventBridge puts around every event, in its documented field order; `time` in `eventTime`'s format.
 * See: https://docs.aws.amazon.com/eventbridge/latest/ref/overiew-event-structure.html
 */
export function eventEnvelope<Source extends string, DetailType extends string>(
  source: Source,
  detailType: DetailType,
  where: { readonly account: string; readonly region: string; readonly time: string },
  resources: readonly string[],
) {
  return {
    version: '0' as const,
    id: randomUUID(),
    'detail-type': detailType,
    source,
    account: where.account,
    time: where.time,
    region: where.region,
    resources,
  };
}

export interface SqsDeliveryOptions {
  /** the queue the rule targets (default: a queue named `ecr-digest-guard-events` in the event's account and region) */
  readonly queueArn?: string;
  /** `ApproximateReceiveCount` (default 1; >1 simulates a redelivery after a failed batch) */
  readonly receiveCount?: number;
  /** when the message was sent (default: now) */
  readonly sentAt?: Date;
}

/**
 * One SQS record carrying one EventBridge event, as the Lambda SQS event source mapping hands it over.
 * `SenderId` is the principal EventBridge sends as; the real value is an AWS-owned id that no document
 * fixes, so a placeholder of the same form is used.
 * See: https://docs.aws.amazon.com/lambda/latest/dg/with-sqs.html (record shape)
 */
export function toSqsRecord(
  event: { readonly account: string; readonly region: string },
  options: SqsDeliveryOptions = {},
): SQSRecord {
  const body = JSON.stringify(event);
  const sentAt = String((options.sentAt ?? new Date()).getTime());
  return {
    messageId: randomUUID(),
    receiptHandle: `AQEB${createHash('sha256')
      .update(body + sentAt)
      .digest('base64')}`,
    body,
    attributes: {
      ApproximateReceiveCount: String(options.receiveCount ?? 1),
      SentTimestamp: sentAt,
      SenderId: 'AIDAEVENTBRIDGESIMULATED',
      ApproximateFirstReceiveTimestamp: sentAt,
    },
    messageAttributes: {},
    md5OfBody: createHash('md5').update(body, 'utf8').digest('hex'),
    eventSource: 'aws:sqs',
    eventSourceARN: options.queueArn ?? `arn:aws:sqs:${event.region}:${event.account}:ecr-digest-guard-events`,
    awsRegion: event.region,
  };
}

/** A batch of EventBridge events delivered through one SQS queue, in order. */
export function toSqsEvent(
  events: readonly { readonly account: string; readonly region: string }[],
  options: SqsDeliveryOptions = {},
): SQSEvent {
  return { Records: events.map((e) => toSqsRecord(e, options)) };
}

/**
 * A lifecycle expiry the simulated registry recorded, as EventBridge would deliver it from CloudTrail: the
 * "Image lifecycle policy action" record of https://docs.aws.amazon.com/AmazonECR/latest/userguide/logging-using-cloudtrail.html
 * as `detail`, in the envelope of a CloudTrail-delivered service event (`AWS Service Event via CloudTrail`,
 * https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-service-event-cloudtrail.html). The rule
 * (`untagged`, `sinceImagePushed`) is the one `SimEcr.runLifecycleExpireUntagged` applies.
 */
export function toLifecycleEventBridgeEvent(
  execution: PolicyExecutionEvent,
  where: { readonly account: string; readonly region: string },
): { readonly account: string; readonly region: string; readonly [key: string]: unknown } {
  return {
    ...eventEnvelope(
      'aws.ecr',
      'AWS Service Event via CloudTrail',
      { account: where.account, region: where.region, time: execution.eventTime },
      [],
    ),
    detail: {
      eventVersion: '1.05',
      userIdentity: { accountId: where.account, invokedBy: 'AWS Internal' },
      eventTime: execution.eventTime,
      eventSource: execution.eventSource,
      eventName: execution.eventName,
      awsRegion: where.region,
      sourceIPAddress: 'AWS Internal',
      userAgent: 'AWS Internal',
      requestParameters: null,
      responseElements: null,
      eventID: randomUUID(),
      readOnly: execution.readOnly,
      resources: [
        {
          ARN: `arn:aws:ecr:${where.region}:${where.account}:repository/${execution.repositoryName}`,
          accountId: where.account,
          type: 'AWS::ECR::Repository',
        },
      ],
      eventType: 'AwsServiceEvent',
      recipientAccountId: where.account,
      serviceEventDetails: {
        repositoryName: execution.repositoryName,
        lifecycleEventPolicy: {
          lifecycleEventRules: [
            {
              rulePriority: 1,
              description: 'expire untagged images',
              lifecycleEventSelection: { tagStatus: 'Untagged', countType: 'Since image pushed' },
              action: 'expire',
            },
          ],
          lastEvaluatedAt: 0,
          policyVersion: 1,
          policyId: randomUUID(),
        },
        lifecycleEventImageActions: execution.images.map((image) => ({
          lifecycleEventImage: {
            digest: image.digest,
            tagStatus: image.tags.length ? 'Tagged' : 'Untagged',
            ...(image.tags.length ? { tagList: [...image.tags] } : {}),
            pushedAt: image.pushedAt.getTime(),
          },
          rulePriority: 1,
        })),
      },
    },
  };
}

/**
 * The `ECS Service Action` event ECS sends when a service cannot start tasks (eventName
 * `SERVICE_TASK_START_IMPAIRED`, eventType `WARN`), in the shape of the "Service task start impaired" example of
 * https://docs.aws.amazon.com/AmazonECS/latest/developerguide/ecs_service_events.html. The simulated ECS does not
 * decide when a service counts as impaired (ECS does not document how many failed starts it takes): a scenario
 * makes this event after the replacement tasks it launched failed.
 */
export function toServiceTaskStartImpairedEvent(where: {
  readonly account: string;
  readonly region: string;
  readonly clusterArn: string;
  readonly serviceArn: string;
  readonly time: Date;
}): { readonly account: string; readonly region: string; readonly [key: string]: unknown } {
  return {
    ...eventEnvelope(
      'aws.ecs',
      'ECS Service Action',
      { account: where.account, region: where.region, time: eventTime(where.time) },
      [where.serviceArn],
    ),
    detail: {
      eventType: 'WARN',
      eventName: 'SERVICE_TASK_START_IMPAIRED',
      clusterArn: where.clusterArn,
      createdAt: where.time.toISOString(),
    },
  };
}

/**
 * An `ECS Deployment State Change` event as EventBridge carries it: the shape of the "service deployment in progress"
 * example (`resources` = the service ARN; no digest, no revision ARN).
 * See: https://docs.aws.amazon.com/AmazonECS/latest/developerguide/ecs_service_deployment_events.html
 */
export interface EcsDeploymentStateChangeEvent {
  readonly version: '0';
  readonly id: string;
  readonly 'detail-type': 'ECS Deployment State Change';
  readonly source: 'aws.ecs';
  readonly account: string;
  readonly time: string;
  readonly region: string;
  readonly resources: readonly string[];
  readonly detail: {
    readonly eventType: 'INFO' | 'ERROR';
    readonly eventName: string;
    readonly deploymentId: string;
    readonly updatedAt: string;
    readonly reason: string;
  };
}

export function toDeploymentStateChangeEvent(where: {
  readonly account: string;
  readonly region: string;
  readonly serviceArn: string;
  readonly eventName: 'SERVICE_DEPLOYMENT_IN_PROGRESS' | 'SERVICE_DEPLOYMENT_COMPLETED' | 'SERVICE_DEPLOYMENT_FAILED';
  readonly deploymentId: string;
  readonly time: Date;
}): EcsDeploymentStateChangeEvent {
  const state = where.eventName.replace('SERVICE_DEPLOYMENT_', '').replace('_', ' ').toLowerCase();
  return {
    ...eventEnvelope(
      'aws.ecs',
      'ECS Deployment State Change',
      { account: where.account, region: where.region, time: eventTime(where.time) },
      [where.serviceArn],
    ),
    detail: {
      eventType: where.eventName === 'SERVICE_DEPLOYMENT_FAILED' ? 'ERROR' : 'INFO',
      eventName: where.eventName,
      deploymentId: where.deploymentId,
      updatedAt: eventTime(where.time),
      reason: `ECS deployment ${where.deploymentId} ${state}.`,
    },
  };
}

/**
 * A Lambda API call as EventBridge receives it from CloudTrail where a trail exists ("AWS API Call via CloudTrail",
 * https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-service-event-cloudtrail.html), with the versioned
 * `eventName` CloudTrail writes for Lambda ("might include date and version information",
 * https://docs.aws.amazon.com/lambda/latest/dg/logging-using-cloudtrail.html) and the request and response fields
 * the guard reads (botocore/data/lambda/2015-03-31/service-2.json). A test builds it after acting on the simulated
 * Lambda, as CloudTrail would record the call.
 */
export function toLambdaApiCallEvent(call: {
  readonly account: string;
  readonly region: string;
  readonly eventName: string;
  readonly functionName: string;
  readonly time: Date;
  /** PublishVersion's answer */
  readonly version?: string;
  /** CreateAlias / UpdateAlias: the alias name */
  readonly alias?: string;
  readonly errorCode?: string;
}): { readonly account: string; readonly region: string; readonly [key: string]: unknown } {
  const functionArn = `arn:aws:lambda:${call.region}:${call.account}:function:${call.functionName}`;
  return {
    ...eventEnvelope(
      'aws.lambda',
      'AWS API Call via CloudTrail',
      { account: call.account, region: call.region, time: eventTime(call.time) },
      [],
    ),
    detail: {
      eventVersion: '1.08',
      userIdentity: { type: 'AssumedRole', accountId: call.account },
      eventTime: eventTime(call.time),
      eventSource: 'lambda.amazonaws.com',
      eventName: call.eventName,
      awsRegion: call.region,
      requestParameters: {
        functionName: call.functionName,
        ...(call.alias ? { name: call.alias } : {}),
      },
      responseElements: call.errorCode
        ? null
        : {
            functionName: call.functionName,
            functionArn: call.version ? `${functionArn}:${call.version}` : functionArn,
            ...(call.version ? { version: call.version } : {}),
            ...(call.alias ? { aliasArn: `${functionArn}:${call.alias}` } : {}),
          },
      ...(call.errorCode ? { errorCode: call.errorCode } : {}),
      eventID: randomUUID(),
      readOnly: false,
      eventType: 'AwsApiCall',
      managementEvent: true,
      recipientAccountId: call.account,
    },
  };
}

/**
 * An `ECS Daemon Deployment State Change` event: the detail names the cluster, the daemon and the revision the
 * deployment rolls out (`targetDaemonRevisionArn`), no digest. A test builds it after `SimEcs.updateDaemon`.
 * See: https://docs.aws.amazon.com/AmazonECS/latest/developerguide/managed-daemons-events.html
 */
export function toDaemonDeploymentStateChangeEvent(where: {
  readonly account: string;
  readonly region: string;
  readonly clusterArn: string;
  readonly daemonArn: string;
  readonly targetDaemonRevisionArn: string;
  readonly eventName: string;
  readonly time: Date;
}): { readonly account: string; readonly region: string; readonly [key: string]: unknown } {
  return {
    ...eventEnvelope(
      'aws.ecs',
      'ECS Daemon Deployment State Change',
      { account: where.account, region: where.region, time: eventTime(where.time) },
      [where.daemonArn],
    ),
    detail: {
      eventType: 'INFO',
      eventName: where.eventName,
      clusterArn: where.clusterArn,
      daemonArn: where.daemonArn,
      targetDaemonRevisionArn: where.targetDaemonRevisionArn,
    },
  };
}

/**
 * The `ECS Daemon Service Action` event ECS sends when it cannot start a daemon task (eventName
 * `DAEMON_TASK_START_IMPAIRED`, eventType `WARNING`): the detail names the cluster, the daemon and the revision the
 * task starts from; `resources` names the task for `TASK_FAILED_TO_RUN` and is empty for `TASK_CREATION_FAILED`
 * (no task was created). A scenario makes it after `SimEcs.launchDaemonTask` failed.
 * See: https://docs.aws.amazon.com/AmazonECS/latest/developerguide/managed-daemons-events.html
 */
export function toDaemonTaskStartImpairedEvent(where: {
  readonly account: string;
  readonly region: string;
  readonly clusterArn: string;
  readonly daemonArn: string;
  readonly daemonRevisionArn: string;
  readonly failureType: 'TASK_FAILED_TO_RUN' | 'TASK_CREATION_FAILED';
  readonly reason: string;
  readonly time: Date;
}): { readonly account: string; readonly region: string; readonly [key: string]: unknown } {
  const taskArn = `${where.clusterArn.replace(':cluster/', ':task/')}/${randomUUID().replaceAll('-', '')}`;
  const failedToRun = where.failureType === 'TASK_FAILED_TO_RUN';
  return {
    ...eventEnvelope(
      'aws.ecs',
      'ECS Daemon Service Action',
      { account: where.account, region: where.region, time: eventTime(where.time) },
      failedToRun ? [taskArn] : [],
    ),
    detail: {
      eventType: 'WARNING',
      eventName: 'DAEMON_TASK_START_IMPAIRED',
      clusterArn: where.clusterArn,
      daemonArn: where.daemonArn,
      daemonRevisionArn: where.daemonRevisionArn,
      ...(failedToRun ? { taskArn } : {}),
      failureType: where.failureType,
      reason: where.reason,
    },
  };
}
