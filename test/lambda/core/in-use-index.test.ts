/**
 * The in-use index's list step, pure: which entries a list of one (account, region) adds and which it may
 * remove. Add fast, remove slow: a list adds what it saw and is missing, and removes only on a complete
 * inventory, only entries last seen before the list started.
 */
import { describe, expect, it } from 'vitest';
import {
  applyListToIndex,
  entriesSeenByList,
  entrySortKey,
  imagePartitionKey,
  planListApplication,
} from '../../../lambda/core/in-use-index';
import type { IndexedEntry, InUseEntry, InUseIndexPort, WorkloadListStatus } from '../../../lambda/core/in-use-index';
import type { Consumer, Inventory } from '../../../lambda/core/types';

const A = `sha256:${'a'.repeat(64)}`;
const B = `sha256:${'b'.repeat(64)}`;
const HERE = { account: '111122223333', region: 'eu-west-1' };
const T0 = Date.parse('2026-11-26T10:00:00Z');
const TASK: Consumer = {
  kind: 'ecs-task',
  cluster: 'prod',
  arn: 'arn:aws:ecs:eu-west-1:111122223333:task/prod/1',
  image: 'x',
};
const SERVICE: Consumer = {
  kind: 'ecs-service',
  cluster: 'prod',
  service: 'web',
  arn: 'arn:aws:ecs:eu-west-1:111122223333:service-revision/prod/web/1',
  image: 'x',
};

function inventory(byRepository: Record<string, Record<string, Consumer[]>>, gaps: Inventory['gaps'] = []): Inventory {
  return {
    takenAt: new Date(T0),
    byRepository: new Map(
      Object.entries(byRepository).map(([repository, digests]) => [repository, new Map(Object.entries(digests))]),
    ),
    gaps,
  };
}

/** An index held in memory, recording each call, with the port's documented outcomes. */
class FakeIndex implements InUseIndexPort {
  readonly items = new Map<string, InUseEntry | IndexedEntry>();
  readonly calls: string[] = [];
  statuses: WorkloadListStatus[] = [];
  failAdds = false;

  async entriesOfWorkload(): Promise<IndexedEntry[]> {
    this.calls.push('query');
    return [...this.items.values()].map((e) => ({
      pk: 'pk' in e ? e.pk : imagePartitionKey(e),
      sk: 'sk' in e ? e.sk : entrySortKey(e),
      lastSeen: e.lastSeen,
    }));
  }
  async addEntry(entry: InUseEntry) {
    this.calls.push('put');
    if (this.failAdds) throw new Error('ProvisionedThroughputExceededException');
    const key = `${imagePartitionKey(entry)}|${entrySortKey(entry)}`;
    if (this.items.has(key)) return 'already-there' as const;
    this.items.set(key, entry);
    return 'added' as const;
  }
  async removeEntryNotSeenSince(key: { pk: string; sk: string }, sinceMs: number) {
    this.calls.push('delete');
    const item = this.items.get(`${key.pk}|${key.sk}`);
    if (item && item.lastSeen >= sinceMs) return 'seen-since' as const;
    this.items.delete(`${key.pk}|${key.sk}`);
    return 'removed' as const;
  }
  async recordListStatus(_workload: unknown, status: WorkloadListStatus) {
    this.statuses.push(status);
    return 'recorded' as const;
  }
}

const list = (inv: Inventory, index: InUseIndexPort, startedAtMs = T0) =>
  applyListToIndex(inv, { registry: HERE, workload: HERE, startedAtMs }, index);

describe('the entries a list saw', () => {
  it('given a digest used by a task and a service, then one entry each, keyed by image and by user', () => {
    const entries = entriesSeenByList(inventory({ app: { [A]: [TASK, SERVICE] } }), {
      registry: HERE,
      workload: HERE,
      startedAtMs: T0,
    });
    expect(entries.map((e) => [imagePartitionKey(e), entrySortKey(e)])).toEqual([
      ['image#111122223333#eu-west-1#app', `${A}#111122223333#eu-west-1#ecs-task#${TASK.arn}`],
      ['image#111122223333#eu-west-1#app', `${A}#111122223333#eu-west-1#ecs-service#${SERVICE.arn}`],
    ]);
    expect(entries[0]).toMatchObject({ seenBy: 'list', lastSeen: T0, kind: 'ecs-task', digest: A, repository: 'app' });
  });

  it('given one task seen through two containers of the same digest, then it is one entry', () => {
    const entries = entriesSeenByList(inventory({ app: { [A]: [TASK, { ...TASK, container: 'sidecar' }] } }), {
      registry: HERE,
      workload: HERE,
      startedAtMs: T0,
    });
    expect(entries).toHaveLength(1);
  });
});

describe('planning a list against the index', () => {
  const seen = entriesSeenByList(inventory({ app: { [A]: [TASK] } }), {
    registry: HERE,
    workload: HERE,
    startedAtMs: T0,
  });
  const stale: IndexedEntry = { pk: 'image#111122223333#eu-west-1#app', sk: `${B}#x#y#ecs-task#old`, lastSeen: T0 - 1 };
  const newer: IndexedEntry = { pk: 'image#111122223333#eu-west-1#app', sk: `${B}#x#y#ecs-task#new`, lastSeen: T0 + 5 };

  it('given a complete list, then it adds what is missing and removes only what was last seen before it started', () => {
    const plan = planListApplication(seen, [stale, newer], true, T0);
    expect(plan.adds).toEqual(seen);
    expect(plan.removals).toEqual([stale]);
  });

  it('given a partial list, then it adds what is missing and removes nothing', () => {
    const plan = planListApplication(seen, [stale, newer], false, T0);
    expect(plan.adds).toEqual(seen);
    expect(plan.removals).toEqual([]);
  });

  it('given every seen entry already indexed, then nothing is written', () => {
    const present = seen.map((e) => ({ pk: imagePartitionKey(e), sk: entrySortKey(e), lastSeen: T0 - 100 }));
    expect(planListApplication(seen, present, true, T0)).toEqual({ adds: [], removals: [] });
  });
});

describe('applying a list', () => {
  it('given a complete list twice with no change, then the second one writes nothing', async () => {
    const index = new FakeIndex();
    const first = await list(inventory({ app: { [A]: [TASK, SERVICE] } }), index);
    expect(first).toMatchObject({ outcome: 'complete', entries: 2, added: 2, removed: 0 });
    index.calls.length = 0;
    const second = await list(inventory({ app: { [A]: [TASK, SERVICE] } }), index, T0 + 60_000);
    expect(second).toMatchObject({ outcome: 'complete', entries: 2, added: 0, removed: 0 });
    expect(index.calls).toEqual(['query']);
    expect(index.statuses.at(-1)).toMatchObject({ outcome: 'complete', startedAtMs: T0 + 60_000, entries: 2 });
  });

  it('given a list with a gap, then it removes nothing and records a partial outcome with the gaps', async () => {
    const index = new FakeIndex();
    await list(inventory({ app: { [A]: [TASK] } }), index);
    const partial = await list(inventory({}, [{ reason: 'DescribeTasks failed' }]), index, T0 + 60_000);
    expect(partial).toMatchObject({ outcome: 'partial', removed: 0 });
    expect(index.items.size).toBe(1);
    expect(index.statuses.at(-1)).toMatchObject({ outcome: 'partial', gaps: ['DescribeTasks failed'] });
  });

  it('given an index write that fails, then the list throws after recording a partial outcome', async () => {
    const index = new FakeIndex();
    index.failAdds = true;
    await expect(list(inventory({ app: { [A]: [TASK] } }), index)).rejects.toThrow(/1 of 1 in-use index writes failed/);
    expect(index.statuses.at(-1)).toMatchObject({ outcome: 'partial' });
    expect(index.statuses.at(-1)?.gaps.join()).toMatch(/index writes failed/);
  });
});
