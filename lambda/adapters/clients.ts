/**
 * One SDK client per service and module: created on first use, reused across warm invocations, and
 * replaceable in tests through each adapter's constructor.
 *
 * Adaptive retry mode adds client-side rate limiting on top of exponential backoff, so a guard that meets
 * throttling slows down instead of hammering a token bucket it shares with every other caller in the
 * account (deploy tools, consoles).
 * See: https://docs.aws.amazon.com/sdkref/latest/guide/feature-retry-behavior.html
 * See: https://docs.aws.amazon.com/AmazonECS/latest/APIReference/request-throttling.html
 */
import { CloudTrailClient } from '@aws-sdk/client-cloudtrail';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ECRClient } from '@aws-sdk/client-ecr';
import { ECSClient } from '@aws-sdk/client-ecs';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { SNSClient } from '@aws-sdk/client-sns';

/** Attempts per request, the first included. Enough to ride out a burst of throttling, short enough to
 * leave the rest to SQS redelivery within the function's timeout. */
export const SDK_MAX_ATTEMPTS = 6;

/** The settings every client of the guard shares. */
export const SDK_CLIENT_CONFIG = { retryMode: 'adaptive', maxAttempts: SDK_MAX_ATTEMPTS } as const;

let ecrClient: ECRClient | undefined;
let ecsClient: ECSClient | undefined;
let lambdaClient: LambdaClient | undefined;
let snsClient: SNSClient | undefined;
let cloudTrailClient: CloudTrailClient | undefined;
let dynamoDbClient: DynamoDBClient | undefined;

export function defaultEcrClient(): ECRClient {
  return (ecrClient ??= new ECRClient({ ...SDK_CLIENT_CONFIG }));
}

export function defaultEcsClient(): ECSClient {
  return (ecsClient ??= new ECSClient({ ...SDK_CLIENT_CONFIG }));
}

export function defaultLambdaClient(): LambdaClient {
  return (lambdaClient ??= new LambdaClient({ ...SDK_CLIENT_CONFIG }));
}

export function defaultSnsClient(): SNSClient {
  return (snsClient ??= new SNSClient({ ...SDK_CLIENT_CONFIG }));
}

/**
 * CloudTrail is asked only for a hint in an alert that is going out anyway, so it gets one attempt and no
 * retries: `LookupEvents` is limited to two requests a second per account and Region, shared with every
 * other caller, and a throttled lookup simply gives up (see `CloudTrailPusherLookup`).
 * See: https://docs.aws.amazon.com/awscloudtrail/latest/APIReference/API_LookupEvents.html
 */
export function defaultCloudTrailClient(): CloudTrailClient {
  return (cloudTrailClient ??= new CloudTrailClient({ ...SDK_CLIENT_CONFIG, maxAttempts: 1 }));
}

export function defaultDynamoDbClient(): DynamoDBClient {
  return (dynamoDbClient ??= new DynamoDBClient({ ...SDK_CLIENT_CONFIG }));
}
