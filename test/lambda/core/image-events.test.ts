import { beforeEach, describe, expect, it } from 'vitest';
import { RepositoryNotFoundError } from '../../../lambda/core/errors';
import { guardImageEvents, type GuardDependencies } from '../../../lambda/core/image-events';
import type { Alert, EcrPort, ProtectiveTagRequest, ProtectOutcome, RestoreOutcome } from '../../../lambda/core/ports';
import { protectiveTagFor } from '../../../lambda/core/protective-tag';
import type { Consumer, GuardSettings, ImageState, Inventory, PushEvent } from '../../../lambda/core/types';
import type { ImageEvent, InventoryGap } from '../../../lambda/core/types';

const d = (c: string) => `sha256:${c.repeat(64)}`;
const web: Consumer = {
  kind: 'ecs-service',
  cluster: 'prod',
  service: 'web',
  container: 'web',
  image: '111122223333.dkr.ecr.eu-west-1.amazonaws.com/app:prod',
};
const settings: GuardSettings = { tagPrefix: 'digest-guard', dryRun: false };

/** An in-memory registry: repository → digest → tags. Faithful only to what the guard reads. */
class FakeEcr implements EcrPort {
  puts: { repository: string; digest: string; tag: string }[] = [];
  failDescribeFor = new Set<string>();
  outcomeOverride?: ProtectOutcome;
  constructor(readonly images: Map<string, Map<string, string[]>>) {}
  async describeDigests(repository: string, digests: readonly string[]): Promise<ImageState[]> {
    if (this.failDescribeFor.has(repository)) throw new Error('ServerException: boom');
    const repo = this.images.get(repository);
    if (!repo) throw new RepositoryNotFoundError(repository);
    return digests.map((digest) => {
      const tags = repo.get(digest);
      return tags ? { digest, present: true, tags, storageStatus: 'ACTIVE' } : { digest, present: false };
    });
  }
  async addProtectiveTags(repository: string, requests: readonly ProtectiveTagRequest[]): Promise<ProtectOutcome[]> {
    const outcomes: ProtectOutcome[] = [];
    for (const { digest, tag } of requests) outcomes.push(await this.addProtectiveTag(repository, digest, tag));
    return outcomes;
  }
  async addProtectiveTag(repository: string, digest: string, tag: string): Promise<ProtectOutcome> {
    if (this.outcomeOverride) return this.outcomeOverride;
    const tags = this.images.get(repository)?.get(digest);
    if (!tags) return { outcome: 'image-missing' };
    if (tags.includes(tag)) return { outcome: 'already-tagged' };
    tags.push(tag);
    this.puts.push({ repository, digest, tag });
    return { outcome: 'tagged' };
  }
  async referencedManifests(): Promise<Map<string, string[]>> {
    return new Map();
  }
  async restoreArchivedImage(): Promise<RestoreOutcome> {
    return { outcome: 'image-missing' };
  }
}

const push = (repository: string, tag: string, digest: string, messageId: string, attempt = 1): PushEvent => ({
  action: 'PUSH',
  messageId,
  eventId: `e-${messageId}`,
  time: new Date('2026-11-26T10:00:00Z'),
  account: '111122223333',
  region: 'eu-west-1',
  repository,
  digest,
  tag,
  attempt,
});

let ecr: FakeEcr;
let alerts: Alert[];
let inventoriesTaken: number;
let deps: GuardDependencies;
let inventoryFails: boolean;
let publishFails: boolean;
let openGaps: InventoryGap[];

beforeEach(() => {
  // Given: app:prod moved from A to B; A is still pinned by service web. api is tagged and in use.
  ecr = new FakeEcr(
    new Map([
      [
        'app',
        new Map([
          [d('a'), []],
          [d('b'), ['prod']],
        ]),
      ],
      ['api', new Map([[d('c'), ['v1']]])],
      ['idle', new Map([[d('e'), []]])],
    ]),
  );
  alerts = [];
  inventoriesTaken = 0;
  inventoryFails = false;
  publishFails = false;
  openGaps = [];
  const inventory: Inventory = {
    takenAt: new Date(),
    byRepository: new Map([
      ['app', new Map([[d('a'), [web]]])],
      [
        'api',
        new Map([[d('c'), [{ ...web, service: 'api', image: '111122223333.dkr.ecr.eu-west-1.amazonaws.com/api:v1' }]]]),
      ],
    ]),
    gaps: openGaps,
  };
  deps = {
    ecr,
    inventory: {
      takeInventory: async () => {
        inventoriesTaken += 1;
        if (inventoryFails) throw new Error('ThrottlingException: Rate exceeded');
        return inventory;
      },
    },
    alerts: {
      publish: async (alert) => {
        if (publishFails) throw new Error('SNS unavailable');
        alerts.push(alert);
      },
    },
    logger: { info: () => undefined, warn: () => undefined, error: () => undefined },
  };
});

describe('guardImageEvents', () => {
  it('protects the in-use digest that lost its tag and alerts once', async () => {
    const outcome = await guardImageEvents([push('app', 'prod', d('b'), 'm1')], settings, deps);
    expect(outcome.failedMessageIds).toEqual([]);
    expect(ecr.puts).toEqual([{ repository: 'app', digest: d('a'), tag: protectiveTagFor(d('a'), 'digest-guard') }]);
    expect(alerts).toHaveLength(1);
    expect(alerts[0]).toMatchObject({ severity: 'WARNING', repository: 'app', events: ['protected'] });
  });

  it('takes one inventory for a batch over many repositories', async () => {
    await guardImageEvents(
      [push('app', 'prod', d('b'), 'm1'), push('api', 'v1', d('c'), 'm2'), push('idle', 'x', d('e'), 'm3')],
      settings,
      deps,
    );
    expect(inventoriesTaken).toBe(1);
  });

  it('does nothing and sends nothing for a duplicate of a handled event', async () => {
    await guardImageEvents([push('app', 'prod', d('b'), 'm1')], settings, deps);
    await guardImageEvents([push('app', 'prod', d('b'), 'm1-dup')], settings, deps);
    expect(ecr.puts).toHaveLength(1);
    expect(alerts).toHaveLength(1);
  });

  it('changes nothing in dry run and says what it would do', async () => {
    await guardImageEvents([push('app', 'prod', d('b'), 'm1')], { ...settings, dryRun: true }, deps);
    expect(ecr.puts).toEqual([]);
    expect(alerts[0]).toMatchObject({ events: ['would-protect'] });
    expect(alerts[0]!.subject).toMatch(/^ECR digest guard: Dry run: would protect 1 in-use image in app$/);
  });

  it('ignores its own protective tags and repositories out of scope without taking an inventory', async () => {
    const own = push('app', protectiveTagFor(d('a'), 'digest-guard'), d('a'), 'm1');
    const outcome = await guardImageEvents(
      [own, push('api', 'v1', d('c'), 'm2')],
      { ...settings, repositories: ['app'] },
      deps,
    );
    expect(outcome).toEqual({ failedMessageIds: [], reports: [] });
    expect(inventoriesTaken).toBe(0);
  });

  it('fails every message of the batch when the inventory cannot be taken', async () => {
    inventoryFails = true;
    const outcome = await guardImageEvents(
      [push('app', 'prod', d('b'), 'm1'), push('api', 'v1', d('c'), 'm2')],
      settings,
      deps,
    );
    expect(outcome.failedMessageIds).toEqual(['m1', 'm2']);
    expect(ecr.puts).toEqual([]);
  });

  it('fails only the messages of the repository whose ECR call failed', async () => {
    ecr.failDescribeFor.add('api');
    const outcome = await guardImageEvents(
      [push('app', 'prod', d('b'), 'm1'), push('api', 'v1', d('c'), 'm2')],
      settings,
      deps,
    );
    expect(outcome.failedMessageIds).toEqual(['m2']);
    expect(ecr.puts).toHaveLength(1);
  });

  it('keeps the protection and logs the whole alert when SNS refuses it, without failing the message', async () => {
    publishFails = true;
    const logged: Record<string, unknown>[] = [];
    const counted: string[] = [];
    const outcome = await guardImageEvents([push('app', 'prod', d('b'), 'm1')], settings, {
      ...deps,
      logger: { ...deps.logger, error: (_message, ...extra) => void logged.push(Object.assign({}, ...extra)) },
      metrics: { count: (name, value) => void (value > 0 && counted.push(name)) },
    });
    expect(outcome.failedMessageIds).toEqual([]);
    expect(ecr.puts).toHaveLength(1);
    expect(logged[0]).toMatchObject({
      repository: 'app',
      subject: 'ECR digest guard: Protected 1 in-use image in app',
      text: expect.stringMatching(/WHAT THE GUARD DID/),
    });
    expect(counted).toContain('AlertPublishFailures');
  });

  it('does not alert again when a redelivered message finds its protection in place', async () => {
    await guardImageEvents([push('app', 'prod', d('b'), 'm1')], settings, deps);
    await guardImageEvents([push('app', 'prod', d('b'), 'm1', 2)], settings, deps);
    expect(ecr.puts).toHaveLength(1);
    expect(alerts).toHaveLength(1);
  });

  it('pages when an in-use digest is already gone', async () => {
    ecr.images.get('app')!.delete(d('a'));
    await guardImageEvents([push('app', 'prod', d('b'), 'm1')], settings, deps);
    expect(alerts[0]).toMatchObject({ severity: 'CRITICAL', events: ['digest-gone'] });
    expect(alerts[0]!.text).toMatch(/redeploy/);
  });

  it('treats a deleted repository as every in-use digest gone', async () => {
    ecr.images.delete('app');
    const outcome = await guardImageEvents([push('app', 'prod', d('b'), 'm1')], settings, deps);
    expect(outcome.failedMessageIds).toEqual([]);
    expect(alerts[0]).toMatchObject({ severity: 'CRITICAL', events: ['digest-gone'] });
  });

  it('never moves a protective tag that names another image, and pages instead', async () => {
    ecr.outcomeOverride = { outcome: 'tag-taken', otherDigest: d('f') };
    await guardImageEvents([push('app', 'prod', d('b'), 'm1')], settings, deps);
    expect(alerts[0]).toMatchObject({ severity: 'CRITICAL', events: ['protection-refused'] });
    expect(alerts[0]!.text).toContain(d('f'));
  });

  it('reports a digest that vanished between describe and put as gone', async () => {
    ecr.outcomeOverride = { outcome: 'image-missing' };
    await guardImageEvents([push('app', 'prod', d('b'), 'm1')], settings, deps);
    expect(alerts[0]).toMatchObject({ severity: 'CRITICAL', events: ['digest-gone'] });
  });
});

describe('guardImageEvents: who pushed (best effort, only for an alert that goes out anyway)', () => {
  const caller = {
    tag: 'prod',
    digest: d('b'),
    time: new Date('2026-11-26T10:00:00Z'),
    principal: 'arn:aws:sts::111122223333:assumed-role/pipeline-b/run-7',
    sessionIssuer: 'arn:aws:iam::111122223333:role/pipeline-b',
  };

  it('asks for the pushes of the tag the affected service was deployed with, and names the principal in the alert', async () => {
    const asked: { repository: string; pushes: readonly { tag: string; digest: string }[] }[] = [];
    deps = {
      ...deps,
      pushers: {
        findPutImageCallers: async (repository, pushes) => {
          asked.push({ repository, pushes });
          return {
            callers: [caller],
            complete: true,
            from: new Date('2026-11-26T09:58:00Z'),
            to: new Date('2026-11-26T10:02:00Z'),
          };
        },
      },
    };

    await guardImageEvents([push('app', 'prod', d('b'), 'm1')], settings, deps);

    expect(asked).toEqual([
      { repository: 'app', pushes: [{ tag: 'prod', digest: d('b'), time: new Date('2026-11-26T10:00:00Z') }] },
    ]);
    expect(alerts[0]!.text).toContain(
      'by arn:aws:sts::111122223333:assumed-role/pipeline-b/run-7 (role arn:aws:iam::111122223333:role/pipeline-b)',
    );
  });

  it('never looks anyone up when there is nothing to alert', async () => {
    let lookups = 0;
    deps = {
      ...deps,
      pushers: {
        findPutImageCallers: async () => {
          lookups += 1;
          throw new Error('unexpected');
        },
      },
    };

    await guardImageEvents([push('api', 'v1', d('c'), 'm2')], settings, deps);

    expect(lookups).toBe(0);
    expect(alerts).toEqual([]);
  });

  it('still protects and alerts, without names, when the lookup throws', async () => {
    const warnings: string[] = [];
    deps = {
      ...deps,
      logger: { ...deps.logger, warn: (message) => void warnings.push(message) },
      pushers: {
        findPutImageCallers: async () => {
          throw new Error('ThrottlingException');
        },
      },
    };

    const outcome = await guardImageEvents([push('app', 'prod', d('b'), 'm1')], settings, deps);

    expect(outcome.failedMessageIds).toEqual([]);
    expect(ecr.puts).toHaveLength(1);
    expect(alerts).toHaveLength(1);
    expect(alerts[0]!.text).not.toContain('Who pushed');
    expect(warnings).toContain('could not look up who pushed; the alert goes out without names');
  });
});

describe('guardImageEvents: deletions while the inventory has a gap', () => {
  const deleted = (repository: string, digest: string, messageId: string, tag?: string): ImageEvent => {
    const { tag: _pushedTag, ...event } = push(repository, tag ?? '', digest, messageId);
    return { ...event, action: 'DELETE', ...(tag ? { tag } : {}) };
  };
  const gapInIdle: InventoryGap = {
    reason: 'service prod/old: the digest behind …/idle:prod is unknown',
    repositories: ['idle'],
  };

  it('given a gap naming the repository, when an unlisted digest is deleted, then it is possibly in use', async () => {
    openGaps.push(gapInIdle);
    ecr.images.get('idle')!.delete(d('e'));

    const outcome = await guardImageEvents([deleted('idle', d('e'), 'm1')], settings, deps);

    expect(outcome.failedMessageIds).toEqual([]);
    expect(alerts).toHaveLength(1);
    expect(alerts[0]).toMatchObject({
      severity: 'WARNING',
      events: ['possibly-in-use'],
      subject: 'ECR digest guard: 1 deleted image possibly in use in idle',
    });
    expect(alerts[0]!.text).toContain(gapInIdle.reason);
    expect((alerts[0]!.json as { possiblyInUse: unknown[] }).possiblyInUse).toEqual([
      {
        digest: d('e'),
        state: 'gone',
        gaps: [gapInIdle],
        action: 'DELETE',
        tag: null,
        time: '2026-11-26T10:00:00.000Z',
      },
    ]);
  });

  it('given a gap that names no repository, then a deletion anywhere is reported as possibly in use', async () => {
    openGaps.push({ reason: 'DescribeTasks in cluster prod: arn:…:task/prod/t1 MISSING' });
    ecr.images.get('idle')!.delete(d('e'));
    await guardImageEvents([deleted('idle', d('e'), 'm1')], settings, deps);
    expect(alerts.map((a) => a.events)).toEqual([['possibly-in-use']]);
  });

  it('given a gap naming only another repository, then the deletion sends nothing', async () => {
    openGaps.push({ ...gapInIdle, repositories: ['api'] });
    ecr.images.get('idle')!.delete(d('e'));
    await guardImageEvents([deleted('idle', d('e'), 'm1')], settings, deps);
    expect(alerts).toEqual([]);
  });

  it('given a gap naming the repository, when a deletion only removed a tag, then it sends nothing', async () => {
    openGaps.push(gapInIdle);
    ecr.images.get('idle')!.set(d('e'), ['v2']);
    await guardImageEvents([deleted('idle', d('e'), 'm1', 'v1')], settings, deps);
    expect(alerts).toEqual([]);
  });
});
