/**
 * How the push function learns what is in use, per deployment shape: a single-account guard takes the direct
 * inventory exactly as before the index (no index grant, no environment); a guard that lists other accounts
 * reads the index besides its own direct inventory by default (read grant + `PUSH_INVENTORY=direct+index`);
 * `pushReadsIndex: false` opts out of that; `pushReadsIndex: true` keeps the index-only mode.
 */
import { Duration } from 'aws-cdk-lib';
import { describe, expect, it } from 'vitest';
import type { DigestGuardProps } from '../../lib/digest-guard';
import { actionsOf, logicalIdOf, roleStatements, synthesizeGuard } from '../support/cdk-app';

const WORKLOAD = '222222222222';
let stacks = 0;

/** The push role's DynamoDB actions and the push function's environment for these props. */
function pushOf(props: Partial<DigestGuardProps>) {
  stacks += 1;
  const { template, stack, guard } = synthesizeGuard(
    { alertEmails: ['ops@example.com'], ...props },
    { bundle: false, stackId: `PushInventory${stacks}` },
  );
  const dynamodb = roleStatements(template, stack, guard.function.role)
    .flatMap(actionsOf)
    .filter((action) => action.startsWith('dynamodb:'))
    .sort();
  const fn = template.findResources('AWS::Lambda::Function')[logicalIdOf(stack, guard.function)];
  const env = fn?.Properties.Environment.Variables as Record<string, unknown>;
  const tableRef = { Ref: logicalIdOf(stack, guard.inUseIndex) };
  return { dynamodb, env, tableRef };
}

const INDEX_VARIABLES = [
  'IN_USE_INDEX_TABLE_NAME',
  'PUSH_INVENTORY',
  'WATCH_ENABLED',
  'WORKLOAD_ACCOUNTS',
  'WORKLOAD_REGIONS',
  'ORGANIZATION_UNITS',
];

describe('the push function inventory per deployment shape', () => {
  it('given a single-account guard with the defaults, then the push function takes the direct inventory: no index grant, no index environment', () => {
    const { dynamodb, env } = pushOf({});
    expect(dynamodb).toEqual([]);
    expect(Object.keys(env).filter((name) => INDEX_VARIABLES.includes(name))).toEqual([]);
  });

  it('given workloadAccounts with the defaults, then the push function may read the index and is told to merge it with its direct inventory', () => {
    const { dynamodb, env, tableRef } = pushOf({ workloadAccounts: [WORKLOAD], workloadRegions: ['eu-west-1'] });
    expect(dynamodb).toEqual(['dynamodb:GetItem', 'dynamodb:Query']);
    expect(env).toMatchObject({
      IN_USE_INDEX_TABLE_NAME: tableRef,
      PUSH_INVENTORY: 'direct+index',
      WORKLOAD_ACCOUNTS: WORKLOAD,
      WORKLOAD_REGIONS: 'eu-west-1',
    });
    expect(env.WATCH_ENABLED).toBeUndefined();
  });

  it('given organizationUnits, then the push function merges the index too and knows accounts are found at run time', () => {
    const { dynamodb, env } = pushOf({
      organizationUnits: ['ou-ab12-cd345678'],
      workloadOrganizationId: 'o-a1b2c3d4e5',
    });
    expect(dynamodb).toEqual(['dynamodb:GetItem', 'dynamodb:Query']);
    expect(env).toMatchObject({ PUSH_INVENTORY: 'direct+index', ORGANIZATION_UNITS: 'ou-ab12-cd345678' });
  });

  it('given workloadAccounts and pushReadsIndex false, then the push function takes the direct inventory only, as before', () => {
    const { dynamodb, env } = pushOf({ workloadAccounts: [WORKLOAD], pushReadsIndex: false });
    expect(dynamodb).toEqual([]);
    expect(Object.keys(env).filter((name) => INDEX_VARIABLES.includes(name))).toEqual([]);
  });

  it('given workloadAccounts and the watch off, then the push function takes the direct inventory only', () => {
    const { dynamodb, env } = pushOf({ workloadAccounts: [WORKLOAD], watch: false });
    expect(dynamodb).toEqual([]);
    expect(env.PUSH_INVENTORY).toBeUndefined();
  });

  it('given pushReadsIndex true, then the push buffer is drained every 2 s (no inventory to space out); an explicit window wins', () => {
    const windowOf = (props: Partial<DigestGuardProps>, id: string) => {
      const { template } = synthesizeGuard(
        { alertEmails: ['ops@example.com'], ...props },
        { bundle: false, stackId: id },
      );
      const mappings = Object.values(template.findResources('AWS::Lambda::EventSourceMapping')) as {
        Properties: { MaximumBatchingWindowInSeconds?: number; BatchSize?: number };
      }[];
      // the push buffer's mapping is the one with the large batch (the watch's is its own, fixed)
      return mappings.find((m) => (m.Properties.BatchSize ?? 0) > 1_000)?.Properties.MaximumBatchingWindowInSeconds;
    };

    expect(windowOf({ workloadAccounts: [WORKLOAD], pushReadsIndex: true }, 'WindowIndex')).toBe(2);
    expect(windowOf({ workloadAccounts: [WORKLOAD] }, 'WindowDefault')).toBe(30);
    expect(windowOf({}, 'WindowSingle')).toBe(30);
    expect(
      windowOf(
        { workloadAccounts: [WORKLOAD], pushReadsIndex: true, maxBatchingWindow: Duration.seconds(10) },
        'WindowSet',
      ),
    ).toBe(10);
  });

  it('given pushReadsIndex true, then the push function reads the index alone', () => {
    const { dynamodb, env } = pushOf({ workloadAccounts: [WORKLOAD], pushReadsIndex: true });
    expect(dynamodb).toEqual(['dynamodb:GetItem', 'dynamodb:Query']);
    expect(env).toMatchObject({ PUSH_INVENTORY: 'index', WATCH_ENABLED: 'true', WORKLOAD_ACCOUNTS: WORKLOAD });
  });
});
