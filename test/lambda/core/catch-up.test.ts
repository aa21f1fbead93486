/**
 * The catch-up list over plain fakes: which workloads it lists (only those whose last complete list is overdue),
 * and what it must never do with a partial picture (release, move the cursor, warn about replication, or write the
 * index for a workload it did not list).
 */
import { describe, expect, it } from 'vitest';
import { entrySortKey, imagePartitionKey } from '../../../lambda/core/in-use-index/keys';
import type {
  AccountRegion,
  IndexedEntry,
  InUseEntry,
  WorkloadListStatus,
} from '../../../lambda/core/in-use-index/types';
import type {
  Alert,
  InUseIndexPort,
  InventoryPort,
  ProtectiveTagRequest,
  RecordedListStatus,
  ReconcileEcrPort,
} from '../../../lambda/core/ports';
import { catchUpAccount, type CatchUpDependencies, ReconcileNotPossibleError } from '../../../lambda/core/reconcile';
import type { Digest, ImageState, Inventory } from '../../../lambda/core/types';

const NOW = new Date('2026-11-26T10:00:00Z');
const MINUTE = 60_000;
const BOUND_MS = (6 * 60 + 15) * MINUTE;
const OWN = { account: '111111111111', region: 'eu-west-1' };
const B = { account: '222222222222', region: 'eu-west-1' };
const C = { account: '333333333333', region: 'eu-west-1' };
const digest = (n: number): Digest => `sha256:${n.toString(16).padStart(64, '0')}`;
const keyOf = (w: AccountRegion) => `${w.account}#${w.region}`;

/** The index as a map: entries per workload, status per workload; every call counted. */
class FakeIndex implements InUseIndexPort {
  readonly entries = new Map<string, InUseEntry & { pk: string; sk: string }>();
  readonly statuses = new Map<string, RecordedListStatus>();
  readonly calls: string[] = [];
  async entriesOfWorkload(workload: AccountRegion): Promise<IndexedEntry[]> {
    this.calls.push(`entriesOf ${keyOf(workload)}`);
    return [...this.entries.values()]
      .filter((e) => e.consumerAccount === workload.account && e.consumerRegion === workload.region)
      .map(({ pk, sk, lastSeen }) => ({ pk, sk, lastSeen }));
  }
  async addEntry(entry: InUseEntry): Promise<'added' | 'already-there'> {
    const pk = imagePartitionKey(entry);
    const sk = entrySortKey(entry);
    if (this.entries.has(`${pk}|${sk}`)) return 'already-there';
    this.entries.set(`${pk}|${sk}`, { ...entry, pk, sk });
    return 'added';
  }
  async removeEntryNotSeenSince(key: { pk: string; sk: string }, sinceMs: number) {
    const entry = this.entries.get(`${key.pk}|${key.sk}`);
    if (entry && entry.lastSeen >= sinceMs) return 'seen-since' as const;
    this.entries.delete(`${key.pk}|${key.sk}`);
    return 'removed' as const;
  }
  async recordListStatus(workload: AccountRegion, status: WorkloadListStatus) {
    this.calls.push(`record ${keyOf(workload)} ${status.outcome}`);
    const before = this.statuses.get(keyOf(workload));
    this.statuses.set(keyOf(workload), {
      lastListStartedAt: status.startedAtMs,
      lastListOutcome: status.outcome,
      ...(status.outcome === 'complete'
        ? { lastCompleteListStartedAt: status.startedAtMs }
        : before?.lastCompleteListStartedAt !== undefined
          ? { lastCompleteListStartedAt: before.lastCompleteListStartedAt }
          : {}),
    });
    return 'recorded' as const;
  }
  async listStatus(workload: AccountRegion) {
    this.calls.push(`status ${keyOf(workload)}`);
    return this.statuses.get(keyOf(workload));
  }
  completeListAt(workload: AccountRegion, atMs: number) {
    this.statuses.set(keyOf(workload), {
      lastListStartedAt: atMs,
      lastListOutcome: 'complete',
      lastCompleteListStartedAt: atMs,
    });
  }
  entriesOf(workload: AccountRegion) {
    return [...this.entries.values()].filter(
      (e) => e.consumerAccount === workload.account && e.consumerRegion === workload.region,
    );
  }
}

/** ECR where every in-use digest is present and untagged (so each is protected); every call counted. */
class FakeEcr implements ReconcileEcrPort {
  readonly calls: string[] = [];
  async describeDigests(repository: string, digests: readonly Digest[]): Promise<ImageState[]> {
    this.calls.push(`describe ${repository}`);
    return digests.map((d) => ({ digest: d, present: true, tags: [], storageStatus: 'ACTIVE' }));
  }
  async addProtectiveTags(repository: string, requests: readonly ProtectiveTagRequest[]) {
    this.calls.push(`tag ${repository} ${requests.length}`);
    return requests.map(() => ({ outcome: 'tagged' as const }));
  }
  async listRepositories() {
    this.calls.push('listRepositories');
    return ['app'];
  }
  async referencedManifests() {
    return new Map<Digest, Digest[]>();
  }
  async listProtectedImages(repository: string) {
    this.calls.push(`list ${repository}`);
    return [];
  }
  async releaseProtectiveTag(repository: string): Promise<never> {
    this.calls.push(`release ${repository}`);
    throw new Error('a catch-up must never release');
  }
  async restoreArchivedImage() {
    return { outcome: 'restoring' as const, status: 'ACTIVATING' };
  }
}

function inventoryUsing(repository: string, d: Digest, arn: string): Inventory {
  return {
    takenAt: NOW,
    gaps: [],
    byRepository: new Map([[repository, new Map([[d, [{ kind: 'ecs-task' as const, arn, image: 'x' }]]])]]),
  };
}

function setup(options: { failing?: AccountRegion[] } = {}) {
  const index = new FakeIndex();
  const ecr = new FakeEcr();
  const published: Alert[] = [];
  const listed: string[] = [];
  const saved: (string | undefined)[] = [];
  const replicationReads: number[] = [];
  const inventoryOf = (workload: AccountRegion): InventoryPort => ({
    takeInventory: async () => {
      listed.push(keyOf(workload));
      if (options.failing?.some((f) => keyOf(f) === keyOf(workload))) {
        throw Object.assign(new Error('not authorized to perform: sts:AssumeRole'), { name: 'AccessDenied' });
      }
      return inventoryUsing('app', digest(Number(workload.account.slice(0, 1))), `arn:task/${workload.account}`);
    },
  });
  const noop = () => undefined;
  const deps: CatchUpDependencies & Record<string, unknown> = {
    ecr,
    inUseIndex: index,
    listStatuses: index,
    inventoryOf,
    alerts: { publish: async (alert) => void published.push(alert) },
    logger: { info: noop, warn: noop, error: noop },
    now: () => NOW,
    // Given to prove the catch-up does not use them: a checkpoint it must not move, replication it must not read.
    checkpoint: { load: async () => 'b-repo', save: async (cursor: string | undefined) => void saved.push(cursor) },
    replication: {
      readReplicationRules: async () => {
        replicationReads.push(1);
        return [];
      },
    },
  };
  return { index, ecr, published, listed, saved, replicationReads, deps };
}

const settings = { tagPrefix: 'digest-guard', dryRun: false, releaseAfterDays: 1 };
const workloads = { workloadAccounts: [B.account, C.account], regions: ['eu-west-1'], listBoundMs: BOUND_MS };
const catchUp = (deps: CatchUpDependencies) => catchUpAccount(OWN, settings, workloads, deps);

describe('the catch-up list', () => {
  it('given every workload listed completely within the bound, when the catch-up runs, then it reads only their statuses: 0 ECS and 0 ECR calls, no alert', async () => {
    const { index, ecr, published, listed, deps } = setup();
    for (const w of [OWN, B, C]) index.completeListAt(w, NOW.getTime() - 6 * 60 * MINUTE);

    const outcome = await catchUp(deps);

    expect(outcome.overdue).toEqual([]);
    expect(listed).toEqual([]); // no inventory taken: no ECS or Lambda call
    expect(ecr.calls).toEqual([]);
    expect(published).toEqual([]);
    expect(index.calls).toEqual([`status ${keyOf(OWN)}`, `status ${keyOf(B)}`, `status ${keyOf(C)}`]);
  });

  it('given a fresh install (no list recorded), when the catch-up runs, then it lists every workload, own included, and protects what they use', async () => {
    const { index, ecr, listed, deps } = setup();

    const outcome = await catchUp(deps);

    expect(outcome.overdue).toEqual([OWN, B, C]);
    expect(outcome.reasons).toEqual(expect.arrayContaining([`${B.account} ${B.region}: no complete list recorded`]));
    expect(listed.sort()).toEqual([OWN, B, C].map(keyOf).sort());
    for (const w of [OWN, B, C]) expect(index.statuses.get(keyOf(w))?.lastListOutcome).toBe('complete');
    expect(ecr.calls.filter((c) => c.startsWith('tag app'))).toEqual(['tag app 3']);
  });

  it('given one workload whose list failed at the scheduled run, when the next catch-up runs, then only it is listed', async () => {
    const { index, listed, deps } = setup();
    for (const w of [OWN, C]) index.completeListAt(w, NOW.getTime() - 10 * MINUTE);
    index.statuses.set(keyOf(B), { lastListStartedAt: NOW.getTime() - 10 * MINUTE, lastListOutcome: 'partial' });

    const outcome = await catchUp(deps);

    expect(outcome.overdue).toEqual([B]);
    expect(listed).toEqual([keyOf(B)]);
    expect(index.statuses.get(keyOf(B))?.lastCompleteListStartedAt).toBe(NOW.getTime());
  });

  it('given a workload whose last complete list is older than the bound, when the catch-up runs, then it is listed', async () => {
    const { index, listed, deps } = setup();
    index.completeListAt(OWN, NOW.getTime() - BOUND_MS - 1);
    for (const w of [B, C]) index.completeListAt(w, NOW.getTime() - BOUND_MS);

    await catchUp(deps);

    expect(listed).toEqual([keyOf(OWN)]);
  });

  it("given only B overdue, when the catch-up runs, then it never records, reads or removes the own account's or C's entries", async () => {
    const { index, deps } = setup();
    // Old entries of the own account and of C, last seen long ago: a complete list of them would remove these.
    for (const w of [OWN, C]) {
      await index.addEntry({
        registryAccount: OWN.account,
        registryRegion: OWN.region,
        repository: 'app',
        digest: digest(9),
        consumerAccount: w.account,
        consumerRegion: w.region,
        kind: 'ecs-task',
        name: `arn:old/${w.account}`,
        seenBy: 'list',
        lastSeen: NOW.getTime() - 5 * 60 * MINUTE,
      });
      index.completeListAt(w, NOW.getTime() - 5 * 60 * MINUTE);
    }

    await catchUp(deps);

    expect(index.entriesOf(OWN)).toHaveLength(1);
    expect(index.entriesOf(C)).toHaveLength(1);
    expect(index.statuses.get(keyOf(OWN))?.lastListStartedAt).toBe(NOW.getTime() - 5 * 60 * MINUTE);
    expect(index.calls.filter((c) => !c.startsWith('status'))).toEqual([
      `entriesOf ${keyOf(B)}`,
      `record ${keyOf(B)} complete`,
    ]);
  });

  it('given release on, a checkpoint and replication rules, when a catch-up lists, then it releases nothing, leaves the cursor and reads no replication rules', async () => {
    const { ecr, saved, replicationReads, deps } = setup();

    const outcome = await catchUp(deps);

    expect(outcome.run).toBeDefined();
    expect(ecr.calls.filter((c) => c.startsWith('release') || c.startsWith('list'))).toEqual([]);
    expect(saved).toEqual([]);
    expect(replicationReads).toEqual([]);
  });

  it('given a workload whose role is still missing, when the catch-up lists it, then it alerts naming it and records a partial list, removing nothing', async () => {
    const { index, published, deps } = setup({ failing: [B] });
    for (const w of [OWN, C]) index.completeListAt(w, NOW.getTime() - MINUTE);

    const outcome = await catchUp(deps);

    expect(outcome.run?.workloadsNotListed).toEqual([expect.objectContaining({ account: B.account })]);
    expect(index.statuses.get(keyOf(B))).toMatchObject({ lastListOutcome: 'partial' });
    expect(published.map((a) => a.subject).join('\n')).toMatch(/could not list/);
  });

  it("given B's last list already partial (its failure alerted) and its role still missing, when the catch-up lists it again, then it records the failure and logs it but does not alert again", async () => {
    const { index, published, deps } = setup({ failing: [B] });
    for (const w of [OWN, C]) index.completeListAt(w, NOW.getTime() - MINUTE);
    index.statuses.set(keyOf(B), { lastListStartedAt: NOW.getTime() - 15 * MINUTE, lastListOutcome: 'partial' });
    const warnings: string[] = [];
    const logged = { ...deps, logger: { ...deps.logger, warn: (message: string) => void warnings.push(message) } };

    const outcome = await catchUp(logged);

    expect(outcome.run?.workloadsNotListed).toEqual([expect.objectContaining({ account: B.account })]);
    expect(index.statuses.get(keyOf(B))?.lastListStartedAt).toBe(NOW.getTime());
    expect(published).toEqual([]);
    expect(warnings).toContain(
      'workloads could not be listed; releases pause and nothing is removed from the index for them',
    );
  });

  it('given organizational units, when the catch-up runs, then it discovers their accounts and lists a joined one that has no list', async () => {
    const { index, listed, deps } = setup();
    for (const w of [OWN, B, C]) index.completeListAt(w, NOW.getTime() - MINUTE);
    const D = { account: '444444444444', region: 'eu-west-1' };
    const organization = {
      childOrganizationalUnits: async () => [],
      accountsOf: async () => [
        { id: C.account, active: true },
        { id: D.account, active: true },
      ],
    };

    const outcome = await catchUpAccount(
      OWN,
      settings,
      { ...workloads, organizationUnits: ['ou-abcd-12345678'] },
      { ...deps, organization },
    );

    expect(outcome.overdue).toEqual([D]);
    expect(listed).toEqual([keyOf(D)]);
  });

  it('given organizational units whose discovery fails, when the catch-up runs, then it still looks at the known workloads and says so', async () => {
    const { index, listed, deps } = setup();
    for (const w of [OWN, C]) index.completeListAt(w, NOW.getTime() - MINUTE);
    const organization = {
      childOrganizationalUnits: async () => {
        throw Object.assign(new Error('not a delegated administrator'), { name: 'AccessDeniedException' });
      },
      accountsOf: async () => [],
    };

    const outcome = await catchUpAccount(
      OWN,
      settings,
      { ...workloads, organizationUnits: ['ou-abcd-12345678'] },
      { ...deps, organization },
    );

    expect(listed).toEqual([keyOf(B)]);
    expect(outcome.accountsNotDiscovered?.reason).toMatch(/^AccessDeniedException: /);
  });
});

describe('a catch-up that cannot reconcile a repository', () => {
  it('given ECR fails for app on the first try and the retry, when the catch-up runs, then it records the lists and alerts after one retry, then rejects naming app', async () => {
    const { index, ecr, published, deps } = setup();
    ecr.describeDigests = async (repository: string) => {
      ecr.calls.push(`describe ${repository}`);
      throw new Error('ThrottlingException: Rate exceeded');
    };
    const waits: number[] = [];

    const failure = await catchUp({ ...deps, sleep: async (ms) => void waits.push(ms) }).then(
      () => undefined,
      (error: unknown) => error,
    );

    // Its only repository failed: the run's "nothing could be done" error, which names it as well.
    expect(failure).toBeInstanceOf(ReconcileNotPossibleError);
    expect((failure as Error).message).toMatch(/every repository reached failed \(app\)/);
    expect(ecr.calls.filter((c) => c === 'describe app')).toHaveLength(2);
    expect(waits).toHaveLength(1);
    for (const w of [OWN, B, C]) expect(index.statuses.get(keyOf(w))?.lastListOutcome).toBe('complete');
    expect(published.map((a) => a.events)).toEqual([['reconcile-failed']]);
  });
});
