/**
 * The deployed entry point, as Lambda calls it: configuration from the environment, module-level clients,
 * Powertools logging and metrics. AWS is replaced with aws-sdk-client-mock; the guard's logic is covered by
 * the core and scenario tests.
 */
import { ECRClient } from '@aws-sdk/client-ecr';
import { ECSClient, ListClustersCommand } from '@aws-sdk/client-ecs';
import { LambdaClient, ListFunctionsCommand } from '@aws-sdk/client-lambda';
import { SNSClient } from '@aws-sdk/client-sns';
import type { SQSEvent } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { describe, expect, it, vi } from 'vitest';
import { readPushHandlerConfig } from '../../../lambda/handlers/config';
import { asDeployedHandler } from '../../support/mocked-clients';

const ecs = mockClient(ECSClient);
const ecr = mockClient(ECRClient);
const sns = mockClient(SNSClient);
const lambda = mockClient(LambdaClient);

const validEnv = {
  TOPIC_ARN: 'arn:aws:sns:eu-west-1:111122223333:ecr-digest-guard-alerts',
  AWS_REGION: 'eu-west-1',
  TAG_PREFIX: 'digest-guard',
  DRY_RUN: 'false',
  REPOSITORIES: '',
};

function pushRecord(messageId: string, body: unknown) {
  return { messageId, body: JSON.stringify(body), attributes: { ApproximateReceiveCount: '1' } };
}

const pushEvent = {
  version: '0',
  id: 'e-1',
  'detail-type': 'ECR Image Action',
  source: 'aws.ecr',
  account: '111122223333',
  time: '2026-11-26T10:00:00Z',
  region: 'eu-west-1',
  resources: [],
  detail: {
    'action-type': 'PUSH',
    result: 'SUCCESS',
    'repository-name': 'app',
    'image-digest': `sha256:${'a'.repeat(64)}`,
    'image-tag': 'prod',
  },
};

describe('readPushHandlerConfig', () => {
  it('reads a valid environment', () => {
    expect(readPushHandlerConfig({ ...validEnv, DRY_RUN: 'TRUE', REPOSITORIES: ' app , team/api ,' })).toEqual({
      topicArn: validEnv.TOPIC_ARN,
      region: 'eu-west-1',
      tagPrefix: 'digest-guard',
      dryRun: true,
      repositories: ['app', 'team/api'],
      lookupPushers: false,
    });
  });

  it('given the watch keeps the index, when the environment names it and the workloads, then the push path reads it', () => {
    const env = {
      ...validEnv,
      WATCH_ENABLED: 'true',
      IN_USE_INDEX_TABLE_NAME: 'guard-in-use-index',
      WORKLOAD_ACCOUNTS: '222222222222, 333333333333',
      WORKLOAD_REGIONS: 'eu-west-1,us-east-1',
    };
    expect(readPushHandlerConfig(env).inUseIndex).toEqual({
      tableName: 'guard-in-use-index',
      mode: 'index',
      workloadAccounts: ['222222222222', '333333333333'],
      workloadRegions: ['eu-west-1', 'us-east-1'],
    });
    expect(readPushHandlerConfig({ ...env, WATCH_ENABLED: 'false' }).inUseIndex).toBeUndefined();
    expect(readPushHandlerConfig({ ...validEnv, IN_USE_INDEX_TABLE_NAME: 'guard-in-use-index' }).inUseIndex).toBe(
      undefined,
    );
    expect(() => readPushHandlerConfig({ ...env, WORKLOAD_ACCOUNTS: '12345' })).toThrow(
      /WORKLOAD_ACCOUNTS must be 12-digit account ids, got 12345/,
    );
  });

  it('given PUSH_INVENTORY, when it names a mode, then the push path reads the index that way, and a bad value fails the cold start', () => {
    const env = { ...validEnv, IN_USE_INDEX_TABLE_NAME: 'guard-in-use-index', WORKLOAD_ACCOUNTS: '222222222222' };
    expect(readPushHandlerConfig({ ...env, PUSH_INVENTORY: 'direct+index' }).inUseIndex).toEqual({
      tableName: 'guard-in-use-index',
      mode: 'direct+index',
      workloadAccounts: ['222222222222'],
    });
    expect(
      readPushHandlerConfig({ ...env, PUSH_INVENTORY: 'index', ORGANIZATION_UNITS: 'ou-ab12-cd345678' }).inUseIndex,
    ).toMatchObject({ mode: 'index', discoversAccounts: true });
    expect(readPushHandlerConfig({ ...env, WATCH_ENABLED: 'true', PUSH_INVENTORY: 'direct' }).inUseIndex).toBe(
      undefined,
    );
    expect(() => readPushHandlerConfig({ ...env, PUSH_INVENTORY: 'both' })).toThrow(
      /PUSH_INVENTORY must be one of direct, index, direct\+index, got "both"/,
    );
    expect(() => readPushHandlerConfig({ ...validEnv, PUSH_INVENTORY: 'direct+index' })).toThrow(
      /PUSH_INVENTORY=direct\+index needs IN_USE_INDEX_TABLE_NAME/,
    );
  });

  it('turns the CloudTrail lookup of who pushed on with LOOKUP_PUSHERS=true, and refuses anything but true or false', () => {
    expect(readPushHandlerConfig({ ...validEnv, LOOKUP_PUSHERS: 'TRUE' }).lookupPushers).toBe(true);
    expect(() => readPushHandlerConfig({ ...validEnv, LOOKUP_PUSHERS: 'yes' })).toThrow(
      /LOOKUP_PUSHERS must be "true" or "false", got "yes"/,
    );
  });

  it('fails the cold start with every problem named', () => {
    expect(() => readPushHandlerConfig({ TOPIC_ARN: 'nope', TAG_PREFIX: '-x', DRY_RUN: 'maybe' })).toThrow(
      /TOPIC_ARN must be an SNS topic ARN, got "nope"; AWS_REGION is not set.*; TAG_PREFIX "-x" must match.*; DRY_RUN must be "true" or "false", got "maybe"/,
    );
  });
});

describe('handler (the deployed entry point)', () => {
  asDeployedHandler(validEnv, ecs, ecr, sns, lambda);

  it('answers a batch with one malformed record with exactly that record as failed', async () => {
    ecs.on(ListClustersCommand).resolves({ clusterArns: [] });
    lambda.on(ListFunctionsCommand).resolves({ Functions: [] });
    const { handler } = await import('../../../lambda/handlers/push.js');
    const event = {
      Records: [pushRecord('good', pushEvent), pushRecord('bad', { hello: 'world' })],
    } as unknown as SQSEvent;
    const response = await handler(event);
    expect(response).toEqual({ batchItemFailures: [{ itemIdentifier: 'bad' }] });
    expect(ecs.commandCalls(ListClustersCommand)).toHaveLength(1);
    expect(ecr.calls()).toHaveLength(0); // nothing in use: nothing to ask ECR
  });

  it('refuses to start with a broken configuration, so the failure alarm fires instead of silent drops', async () => {
    vi.stubEnv('TOPIC_ARN', '');
    const { handler } = await import('../../../lambda/handlers/push.js');
    await expect(handler({ Records: [pushRecord('m', pushEvent)] } as unknown as SQSEvent)).rejects.toThrow(
      /TOPIC_ARN must be an SNS topic ARN/,
    );
  });
});
