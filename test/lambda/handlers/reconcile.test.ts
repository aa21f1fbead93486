/**
 * The deployed reconcile entry point, as Lambda calls it from an EventBridge schedule: configuration from the
 * environment, the account from the event, module-level clients, Powertools logging and metrics. AWS is
 * replaced with aws-sdk-client-mock; the reconcile logic is covered by the core and scenario tests.
 */
import { DescribeRepositoriesCommand, ECRClient } from '@aws-sdk/client-ecr';
import { ECSClient, ListClustersCommand } from '@aws-sdk/client-ecs';
import { LambdaClient, ListFunctionsCommand } from '@aws-sdk/client-lambda';
import { DynamoDBClient, GetItemCommand, QueryCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { SNSClient } from '@aws-sdk/client-sns';
import type { ScheduledEvent } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { describe, expect, it, vi } from 'vitest';
import { readReconcileHandlerConfig } from '../../../lambda/handlers/reconcile-config';
import { asDeployedHandler } from '../../support/mocked-clients';

const ecs = mockClient(ECSClient);
const ecr = mockClient(ECRClient);
const sns = mockClient(SNSClient);
const lambda = mockClient(LambdaClient);
const dynamodb = mockClient(DynamoDBClient);

const validEnv = {
  TOPIC_ARN: 'arn:aws:sns:eu-west-1:111122223333:ecr-digest-guard-alerts',
  AWS_REGION: 'eu-west-1',
  TAG_PREFIX: 'digest-guard',
  DRY_RUN: 'false',
  REPOSITORIES: '',
  RELEASE_AFTER_DAYS: '',
};

// See: https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-run-lambda-schedule.html (event shape)
const scheduled = (account: string): ScheduledEvent => ({
  version: '0',
  id: 'e-1',
  'detail-type': 'Scheduled Event',
  source: 'aws.events',
  account,
  time: '2026-11-26T10:00:00Z',
  region: 'eu-west-1',
  resources: ['arn:aws:events:eu-west-1:111122223333:rule/reconcile'],
  detail: {},
});

describe('readReconcileHandlerConfig', () => {
  it('reads the push settings and the grace period; unset or 0 means never release', () => {
    expect(readReconcileHandlerConfig({ ...validEnv, RELEASE_AFTER_DAYS: '30', REPOSITORIES: 'app' })).toEqual({
      topicArn: validEnv.TOPIC_ARN,
      region: 'eu-west-1',
      tagPrefix: 'digest-guard',
      dryRun: false,
      repositories: ['app'],
      releaseAfterDays: 30,
      lifecycleCheck: 'evaluate',
      installLifecycleShield: false,
      lookupPushers: false,
    });
    expect(readReconcileHandlerConfig(validEnv).releaseAfterDays).toBeUndefined();
    expect(readReconcileHandlerConfig({ ...validEnv, RELEASE_AFTER_DAYS: '0' }).releaseAfterDays).toBeUndefined();
  });

  it('given workload accounts and regions, when read, then the reconcile lists them; bad ones fail the cold start', () => {
    expect(
      readReconcileHandlerConfig({
        ...validEnv,
        WORKLOAD_ACCOUNTS: '222222222222, 333333333333',
        WORKLOAD_REGIONS: 'eu-west-1,us-east-1',
      }),
    ).toMatchObject({
      workloadAccounts: ['222222222222', '333333333333'],
      workloadRegions: ['eu-west-1', 'us-east-1'],
    });
    expect(() => readReconcileHandlerConfig({ ...validEnv, WORKLOAD_ACCOUNTS: '2222,333333333333' })).toThrow(
      'WORKLOAD_ACCOUNTS must be 12-digit account ids, got 2222',
    );
    expect(() =>
      readReconcileHandlerConfig({ ...validEnv, WORKLOAD_ACCOUNTS: '222222222222', WORKLOAD_REGIONS: 'eu_west_1' }),
    ).toThrow('WORKLOAD_REGIONS must be region names, got eu_west_1');
  });

  it.each(['-1', '1.5', 'thirty', '99999'])('fails the cold start for RELEASE_AFTER_DAYS="%s"', (value) => {
    expect(() => readReconcileHandlerConfig({ ...validEnv, RELEASE_AFTER_DAYS: value })).toThrow(
      /RELEASE_AFTER_DAYS must be a whole number of days from 0 \(never release\) to 3650/,
    );
  });

  it('reads the lifecycle check mode and the opt-in shield install, and refuses anything else', () => {
    expect(
      readReconcileHandlerConfig({ ...validEnv, LIFECYCLE_CHECK: 'PREVIEW', INSTALL_LIFECYCLE_SHIELD: 'true' }),
    ).toMatchObject({
      lifecycleCheck: 'preview',
      installLifecycleShield: true,
    });
    expect(() =>
      readReconcileHandlerConfig({ ...validEnv, LIFECYCLE_CHECK: 'sometimes', INSTALL_LIFECYCLE_SHIELD: 'yes' }),
    ).toThrow(
      /LIFECYCLE_CHECK must be "off", "evaluate" or "preview", got "sometimes"; INSTALL_LIFECYCLE_SHIELD must be "true" or "false", got "yes"/,
    );
  });

  it('names every problem at once, the push settings included', () => {
    expect(() => readReconcileHandlerConfig({ ...validEnv, TOPIC_ARN: 'nope', RELEASE_AFTER_DAYS: 'x' })).toThrow(
      /^invalid configuration: TOPIC_ARN must be an SNS topic ARN, got "nope"; RELEASE_AFTER_DAYS must be/,
    );
  });
});

describe('handler (the deployed entry point)', () => {
  asDeployedHandler(validEnv, ecs, ecr, sns, lambda);

  it('takes one inventory of the account the event names and, with nothing in use and release off, asks ECR nothing', async () => {
    ecs.on(ListClustersCommand).resolves({ clusterArns: [] });
    lambda.on(ListFunctionsCommand).resolves({ Functions: [] });
    const { handler } = await import('../../../lambda/handlers/reconcile.js');
    await handler(scheduled('111122223333'));
    expect(ecs.commandCalls(ListClustersCommand)).toHaveLength(1);
    expect(ecr.calls()).toHaveLength(0);
    expect(sns.calls()).toHaveLength(0);
  });

  it('lists repositories when release is on and no scope is set (unused repositories hold the protections to release)', async () => {
    vi.stubEnv('RELEASE_AFTER_DAYS', '30');
    ecs.on(ListClustersCommand).resolves({ clusterArns: [] });
    lambda.on(ListFunctionsCommand).resolves({ Functions: [] });
    ecr.on(DescribeRepositoriesCommand).resolves({ repositories: [] });
    const { handler } = await import('../../../lambda/handlers/reconcile.js');
    await handler(scheduled('111122223333'));
    expect(ecr.commandCalls(DescribeRepositoriesCommand)).toHaveLength(1);
  });

  it('throws when nothing could be done (no inventory), so Lambda retries and the failure alarm fires', async () => {
    ecs.on(ListClustersCommand).rejects(new Error('AccessDeniedException'));
    lambda.on(ListFunctionsCommand).resolves({ Functions: [] });
    const { handler } = await import('../../../lambda/handlers/reconcile.js');
    await expect(handler(scheduled('111122223333'))).rejects.toThrow(/could not take the in-use inventory/);
  });

  it('refuses an event without a 12-digit account id', async () => {
    const { handler } = await import('../../../lambda/handlers/reconcile.js');
    await expect(handler(scheduled('not-an-account'))).rejects.toThrow(/no 12-digit account id/);
    expect(ecs.calls()).toHaveLength(0);
  });

  it('refuses to start with a broken configuration', async () => {
    vi.stubEnv('RELEASE_AFTER_DAYS', 'soon');
    const { handler } = await import('../../../lambda/handlers/reconcile.js');
    await expect(handler(scheduled('111122223333'))).rejects.toThrow(/RELEASE_AFTER_DAYS must be/);
  });
});

describe('handler, on a catch-up event (the second rule: account, region, time and the marker)', () => {
  asDeployedHandler(
    { ...validEnv, IN_USE_INDEX_TABLE_NAME: 'in-use', LIST_BOUND_MINUTES: '375' },
    ecs,
    ecr,
    sns,
    lambda,
    dynamodb,
  );
  const catchUp = {
    account: '111122223333',
    region: 'eu-west-1',
    time: '2026-11-26T10:00:00Z',
    catchUp: true,
  } as const;

  it('given the own workload listed completely 10 minutes ago, when a catch-up arrives, then it reads one status and makes 0 ECS, Lambda, ECR or SNS calls', async () => {
    const tenMinutesAgo = String(Date.now() - 600_000);
    dynamodb.on(GetItemCommand).resolves({
      Item: {
        lastListStartedAt: { N: tenMinutesAgo },
        lastListOutcome: { S: 'complete' },
        lastCompleteListStartedAt: { N: tenMinutesAgo },
      },
    });
    const { handler } = await import('../../../lambda/handlers/reconcile.js');
    await handler(catchUp);
    expect(dynamodb.commandCalls(GetItemCommand)).toHaveLength(1);
    expect(ecs.calls()).toHaveLength(0);
    expect(lambda.calls()).toHaveLength(0);
    expect(ecr.calls()).toHaveLength(0);
    expect(sns.calls()).toHaveLength(0);
  });

  it('given no list recorded (a fresh install), when a catch-up arrives, then it lists the own account', async () => {
    dynamodb.on(GetItemCommand).resolves({});
    dynamodb.on(QueryCommand).resolves({ Items: [] });
    dynamodb.on(UpdateItemCommand).resolves({});
    ecs.on(ListClustersCommand).resolves({ clusterArns: [] });
    lambda.on(ListFunctionsCommand).resolves({ Functions: [] });
    const { handler } = await import('../../../lambda/handlers/reconcile.js');
    await handler(catchUp);
    expect(ecs.commandCalls(ListClustersCommand)).toHaveLength(1);
    expect(dynamodb.commandCalls(UpdateItemCommand)).toHaveLength(1); // the own list's status, complete
  });

  it('refuses a LIST_BOUND_MINUTES below the catch-up period', () => {
    expect(() => readReconcileHandlerConfig({ ...validEnv, LIST_BOUND_MINUTES: '10' })).toThrow(
      'LIST_BOUND_MINUTES must be a whole number of minutes of at least 15, got "10"',
    );
    expect(readReconcileHandlerConfig({ ...validEnv, LIST_BOUND_MINUTES: '375' }).listBoundMinutes).toBe(375);
  });
});
