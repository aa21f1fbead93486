/**
 * AWS's documented sample events, kept as JSON in test/fixtures and handed out as fresh copies (a test may
 * change its copy). Where a sample is not usable as printed, the fixture says how it differs.
 */
import type { ScheduledEvent } from 'aws-lambda';
import ecrPush from '../fixtures/ecr-image-action-push.json';
import ecsTaskStateChange from '../fixtures/ecs-task-state-change.json';
import ecsDeploymentStateChange from '../fixtures/ecs-deployment-state-change.json';
import ecsDaemonDeploymentStateChange from '../fixtures/ecs-daemon-deployment-state-change.json';
import daemonTaskStartImpaired from '../fixtures/ecs-daemon-service-action-task-start-impaired.json';
import lambdaUpdateFunctionCodeCall from '../fixtures/lambda-update-function-code-call.json';
import policyExecution from '../fixtures/ecr-lifecycle-policy-execution.json';
import serviceTaskStartImpaired from '../fixtures/ecs-service-action-task-start-impaired.json';
import scheduled from '../fixtures/eventbridge-scheduled-event.json';

const copy = <T>(value: T): T => structuredClone(value);

/**
 * The push example of https://docs.aws.amazon.com/AmazonECR/latest/userguide/ecr-eventbridge.html, with a
 * well-formed digest (`sha256:` and 64 hex) in place of the shortened one the page prints.
 */
export function ecrPushEventFixture(): typeof ecrPush {
  return copy(ecrPush);
}

/**
 * The "Example: Image lifecycle policy action" CloudTrail record of
 * https://docs.aws.amazon.com/AmazonECR/latest/userguide/logging-using-cloudtrail.html, as its `detail`,
 * inside the EventBridge envelope CloudTrail events get ("AWS Service Event via CloudTrail" for
 * `eventType: AwsServiceEvent`:
 * https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-service-event-cloudtrail.html).
 * `detailType` and the rule's `action` can be changed to test other envelopes and actions.
 */
export function policyExecutionEventFixture(detailType = 'AWS Service Event via CloudTrail', ruleAction = 'expire') {
  const event = copy(policyExecution);
  event['detail-type'] = detailType;
  event.detail.serviceEventDetails.lifecycleEventPolicy.lifecycleEventRules[0]!.action = ruleAction;
  return event;
}

/** The scheduled event of https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-run-lambda-schedule.html. */
export function scheduledEventFixture(overrides: Partial<ScheduledEvent> = {}): ScheduledEvent {
  return { ...(copy(scheduled) as ScheduledEvent), ...overrides };
}

/**
 * The "Service task start impaired" example of
 * https://docs.aws.amazon.com/AmazonECS/latest/developerguide/ecs_service_events.html, verbatim.
 */
export function serviceTaskStartImpairedEventFixture(): typeof serviceTaskStartImpaired {
  return copy(serviceTaskStartImpaired);
}

/** The "Task state change event" example of https://docs.aws.amazon.com/AmazonECS/latest/developerguide/ecs_task_events.html. */
export function ecsTaskStateChangeFixture(): typeof ecsTaskStateChange {
  return copy(ecsTaskStateChange);
}

/**
 * The "service deployment in progress" example of
 * https://docs.aws.amazon.com/AmazonECS/latest/developerguide/ecs_service_deployment_events.html, verbatim.
 */
export function ecsDeploymentStateChangeFixture(): typeof ecsDeploymentStateChange {
  return copy(ecsDeploymentStateChange);
}

/**
 * An `UpdateFunctionCode` call of an image function as EventBridge delivers it ("AWS API Call via CloudTrail",
 * https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-service-event-cloudtrail.html). Not a printed sample:
 * AWS prints none for this call. It is the CloudTrail record of
 * https://docs.aws.amazon.com/lambda/latest/dg/logging-using-cloudtrail.html with the request and response of
 * UpdateFunctionCode (botocore/data/lambda/2015-03-31/service-2.json), under the versioned eventName CloudTrail
 * writes for it.
 */
export function lambdaUpdateFunctionCodeCallFixture(): typeof lambdaUpdateFunctionCodeCall {
  return copy(lambdaUpdateFunctionCodeCall);
}

/**
 * The "Example: TASK_FAILED_TO_RUN event" of
 * https://docs.aws.amazon.com/AmazonECS/latest/developerguide/managed-daemons-events.html. Not verbatim: the
 * envelope and `eventType`, `eventName`, `clusterArn` are as printed; the other detail fields (`daemonArn`,
 * `daemonRevisionArn`, `taskArn`, `failureType`, `reason`) are those the page names, with values in its style.
 */
export function daemonTaskStartImpairedEventFixture(): typeof daemonTaskStartImpaired {
  return copy(daemonTaskStartImpaired);
}

/**
 * An `ECS Daemon Deployment State Change` event after
 * https://docs.aws.amazon.com/AmazonECS/latest/developerguide/managed-daemons-events.html. Not verbatim: the fields
 * the guard reads (`detail.targetDaemonRevisionArn`, `daemonArn`, `clusterArn`) as the page names them; the
 * eventName is illustrative (the watch reads the revision whatever the eventName).
 */
export function ecsDaemonDeploymentStateChangeFixture(): typeof ecsDaemonDeploymentStateChange {
  return copy(ecsDaemonDeploymentStateChange);
}
