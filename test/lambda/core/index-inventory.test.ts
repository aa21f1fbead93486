/**
 * The push path's inventory from the in-use index, over a fake index: when the index is trusted, what it turns
 * entries into, and the fallback to the direct inventory with the note the alert shows.
 */
import { describe, expect, it } from 'vitest';
import type { AccountRegion, InUseEntry } from '../../../lambda/core/in-use-index';
import {
  consumerOf,
  INDEX_READ_CONCURRENCY,
  inventoryFromDirectAndIndex,
  inventoryFromIndexOrDirect,
} from '../../../lambda/core/index-inventory';
import type { InUseIndexReadPort, RecordedListStatus } from '../../../lambda/core/ports';
import type { Inventory } from '../../../lambda/core/types';

const OWN = { account: '111111111111', region: 'eu-west-1' };
const OTHER = { account: '222222222222', region: 'eu-west-1' };
const DIGEST = `sha256:${'a'.repeat(64)}`;
const directInventory: Inventory = { takenAt: new Date(0), byRepository: new Map(), gaps: [] };
const silent = { info: () => undefined, warn: () => undefined, error: () => undefined };

function entry(repository: string, name: string): InUseEntry {
  return {
    registryAccount: OWN.account,
    registryRegion: OWN.region,
    repository,
    digest: DIGEST,
    consumerAccount: OTHER.account,
    consumerRegion: OTHER.region,
    kind: 'ecs-service',
    name,
    seenBy: 'list',
    lastSeen: 1,
    image: `${repository}:prod`,
  };
}

function fakeIndex(statuses: Map<string, RecordedListStatus>, inFlight = { now: 0, max: 0 }): InUseIndexReadPort {
  return {
    listStatus: async (w: AccountRegion) => statuses.get(w.account),
    usersOfRepository: async (_registry, repository) => {
      inFlight.now += 1;
      inFlight.max = Math.max(inFlight.max, inFlight.now);
      await new Promise((resolve) => setTimeout(resolve, 1));
      inFlight.now -= 1;
      return [entry(repository, `arn:aws:ecs:eu-west-1:222222222222:service-revision/prod/${repository}/1`)];
    },
  };
}

function port(index: InUseIndexReadPort, workloads: readonly AccountRegion[] = [OWN, OTHER]) {
  return inventoryFromIndexOrDirect({
    index,
    direct: { takeInventory: async () => directInventory },
    registry: OWN,
    workloads,
    logger: silent,
    now: () => new Date(5),
  });
}

const complete = { lastListStartedAt: 1, lastListOutcome: 'complete', lastCompleteListStartedAt: 1 };

describe('inventoryFromIndexOrDirect', () => {
  it('given a workload in another account with no complete list, when asked, then the direct inventory is taken with a note naming it', async () => {
    const statuses = new Map([[OWN.account, complete]]);
    const inventory = await port(fakeIndex(statuses)).takeInventory(['app']);
    expect(inventory.byRepository.size).toBe(0);
    expect(inventory.notes).toEqual([
      expect.stringMatching(
        /^The in-use index was not used: no complete list is recorded yet for 222222222222 eu-west-1\./,
      ),
    ]);
  });

  it('given the last list of a workload was partial after a complete one, when asked, then the index is used with a gap naming it', async () => {
    const statuses = new Map([
      [OWN.account, complete],
      [OTHER.account, { ...complete, lastListStartedAt: 2, lastListOutcome: 'partial' }],
    ]);
    const inventory = await port(fakeIndex(statuses)).takeInventory(['app']);
    expect(inventory.byRepository.get('app')?.get(DIGEST)).toHaveLength(1);
    expect(inventory.gaps.map((gap) => gap.reason)).toEqual([
      'the last list of 222222222222 eu-west-1 was partial: what it could not see may be in use',
    ]);
    expect(inventory.notes).toBeUndefined();
  });

  it('given many pushed repositories, when asked, then one Query each is made with a bounded number in flight', async () => {
    const statuses = new Map([
      [OWN.account, complete],
      [OTHER.account, complete],
    ]);
    const inFlight = { now: 0, max: 0 };
    const repositories = Array.from({ length: 30 }, (_, i) => `repo-${i}`);
    const inventory = await port(fakeIndex(statuses, inFlight)).takeInventory(repositories);
    expect(inventory.byRepository.size).toBe(30);
    expect(inFlight.max).toBe(INDEX_READ_CONCURRENCY);
  });
});

describe('consumerOf', () => {
  it('given a service revision ARN, then the consumer names its cluster and service as the direct inventory does', () => {
    expect(consumerOf(entry('app', 'arn:aws:ecs:eu-west-1:222222222222:service-revision/prod/web/7'))).toEqual({
      kind: 'ecs-service',
      arn: 'arn:aws:ecs:eu-west-1:222222222222:service-revision/prod/web/7',
      image: 'app:prod',
      cluster: 'prod',
      service: 'web',
    });
  });

  it('given a daemon revision ARN, then the consumer names its cluster as the direct inventory does', () => {
    const arn = 'arn:aws:ecs:eu-west-1:222222222222:daemon-revision/prod/log-router/a1b2c3d4';
    expect(consumerOf({ ...entry('agent', arn), kind: 'ecs-daemon' })).toEqual({
      kind: 'ecs-daemon',
      arn,
      image: 'agent:prod',
      cluster: 'prod',
    });
  });

  it('given a name without an ARN, then cluster, service and container parse back only when all three are there', () => {
    expect(consumerOf(entry('app', 'prod/web/main'))).toMatchObject({
      cluster: 'prod',
      service: 'web',
      container: 'main',
    });
    expect(consumerOf(entry('app', 'app:prod'))).toEqual({ kind: 'ecs-service', image: 'app:prod' });
  });
});

describe('inventoryFromDirectAndIndex', () => {
  const OWN_SERVICE = 'arn:aws:ecs:eu-west-1:111111111111:service-revision/prod/api/1';
  const ownInventory: Inventory = {
    takenAt: new Date(3),
    byRepository: new Map([
      [
        'app',
        new Map([[DIGEST, [{ kind: 'ecs-service' as const, arn: OWN_SERVICE, image: 'app:own', container: 'api' }]]]),
      ],
    ]),
    gaps: [],
  };

  /** An index holding one user in the own account (the same the direct inventory sees) and one in OTHER. */
  function unionPort(
    statuses: Map<string, RecordedListStatus>,
    options: { failing?: boolean; counted?: string[]; asked?: string[] } = {},
  ) {
    const index: InUseIndexReadPort = {
      listStatus: async (w: AccountRegion) => {
        options.asked?.push(w.account);
        return statuses.get(w.account);
      },
      usersOfRepository: async (_registry, repository) => {
        if (options.failing) throw new Error('InternalServerError');
        return [
          { ...entry(repository, OWN_SERVICE), consumerAccount: OWN.account, image: 'app:own' },
          entry(repository, 'arn:aws:ecs:eu-west-1:222222222222:service-revision/prod/web/1'),
        ];
      },
    };
    return inventoryFromDirectAndIndex({
      index,
      direct: { takeInventory: async () => ownInventory },
      registry: OWN,
      workloads: [OWN, OTHER],
      logger: silent,
      metrics: { count: (name: string) => options.counted?.push(name) },
      now: () => new Date(5),
    });
  }

  it('given complete lists, when asked, then the own direct inventory and the other account users of the index are merged, each user once', async () => {
    const asked: string[] = [];
    const inventory = await unionPort(new Map([[OTHER.account, complete]]), { asked }).takeInventory(['app']);
    const users = inventory.byRepository.get('app')?.get(DIGEST) ?? [];
    expect(users.map((user) => user.arn)).toEqual([
      OWN_SERVICE,
      'arn:aws:ecs:eu-west-1:222222222222:service-revision/prod/web/1',
    ]);
    // the own user as the direct inventory names it (with its container), not repeated from the index
    expect(users[0]).toMatchObject({ container: 'api' });
    expect(inventory.takenAt).toEqual(new Date(3));
    expect(inventory.notes).toBeUndefined();
    expect(inventory.retryBatch).toBeUndefined();
    // the own account is covered by its direct inventory: its list status is not needed
    expect(asked).toEqual([OTHER.account]);
  });

  it('given another workload with no complete list, when asked, then what the index holds is still used and a note names the workload', async () => {
    const inventory = await unionPort(new Map()).takeInventory(['app']);
    expect(inventory.byRepository.get('app')?.get(DIGEST)).toHaveLength(2);
    expect(inventory.notes).toEqual([
      'Workloads with no complete list yet, seen at push time only through what the watch indexed: 222222222222 eu-west-1; ' +
        'the catch-up list (every 15 minutes) lists them.',
    ]);
  });

  it('given the last list of another workload was partial, when asked, then it is a gap', async () => {
    const statuses = new Map([[OTHER.account, { ...complete, lastListStartedAt: 2, lastListOutcome: 'partial' }]]);
    const inventory = await unionPort(statuses).takeInventory(['app']);
    expect(inventory.gaps.map((gap) => gap.reason)).toEqual([
      'the last list of 222222222222 eu-west-1 was partial: what it could not see may be in use',
    ]);
  });

  it('given the index cannot be read, when asked, then the own direct inventory is kept, the failure counted, and the batch asked to be retried', async () => {
    const counted: string[] = [];
    const inventory = await unionPort(new Map([[OTHER.account, complete]]), { failing: true, counted }).takeInventory([
      'app',
    ]);
    expect(inventory.byRepository).toEqual(ownInventory.byRepository);
    expect(counted).toEqual(['InUseIndexReadFailures']);
    expect(inventory.retryBatch).toEqual(expect.stringContaining('could not be read'));
    expect(inventory.notes).toEqual([expect.stringContaining('The in-use index could not be read')]);
  });
});

describe('inventoryFromIndexOrDirect when the index cannot be read', () => {
  const failing: InUseIndexReadPort = {
    listStatus: async () => {
      throw new Error('AccessDeniedException');
    },
    usersOfRepository: async () => [],
  };

  it('given other workloads, when asked, then the direct fallback is taken and the batch asked to be retried: it missed them', async () => {
    const inventory = await port(failing, [OWN, OTHER]).takeInventory(['app']);
    expect(inventory.notes).toEqual([expect.stringContaining('it could not be read')]);
    expect(inventory.retryBatch).toEqual(expect.stringContaining('could not be read'));
  });

  it('given accounts found at run time (organizational units) besides the own one, when asked, then the batch is asked to be retried', async () => {
    const inventory = await inventoryFromIndexOrDirect({
      index: failing,
      direct: { takeInventory: async () => directInventory },
      registry: OWN,
      workloads: [OWN],
      othersBeyondWorkloads: true,
      logger: silent,
      now: () => new Date(5),
    }).takeInventory(['app']);
    expect(inventory.retryBatch).toEqual(expect.stringContaining('could not be read'));
  });

  it('given only the own account, when asked, then the direct fallback sees everything and the batch is not retried', async () => {
    const inventory = await port(failing, [OWN]).takeInventory(['app']);
    expect(inventory.notes).toEqual([expect.stringContaining('it could not be read')]);
    expect(inventory.retryBatch).toBeUndefined();
  });
});
