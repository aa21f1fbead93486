import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InventoryCollector, consumerKey, gapConcerns, mergeInventories } from '../../../lambda/core/inventory';
import type { Consumer, Inventory, InventoryGap } from '../../../lambda/core/types';

const HOST = '111122223333.dkr.ecr.eu-west-1.amazonaws.com';
const digest = (n: number): string => `sha256:${n.toString(16).padStart(64, '0')}`;

const service: Consumer = {
  kind: 'ecs-service',
  cluster: 'prod',
  service: 'web',
  arn: 'arn:rev/1',
  container: 'web',
  image: `${HOST}/app:prod`,
};
const task: Consumer = {
  kind: 'ecs-task',
  cluster: 'prod',
  service: 'web',
  arn: 'arn:task/1',
  container: 'web',
  image: `${HOST}/app:prod`,
};
const fn: Consumer = {
  kind: 'lambda-function',
  arn: 'arn:aws:lambda:eu-west-1:111122223333:function:thumbs',
  image: `${HOST}/app:prod`,
};

function inventory(takenAt: string, entries: [string, string, Consumer[]][], gaps: InventoryGap[] = []): Inventory {
  const byRepository = new Map<string, Map<string, Consumer[]>>();
  for (const [repository, d, consumers] of entries) {
    const byDigest = byRepository.get(repository) ?? new Map<string, Consumer[]>();
    byDigest.set(d, [...(byDigest.get(d) ?? []), ...consumers]);
    byRepository.set(repository, byDigest);
  }
  return { takenAt: new Date(takenAt), byRepository, gaps };
}

/** A plain, order-free view: repository → digest → sorted consumer keys. */
function flatten(inv: Inventory): Record<string, Record<string, string[]>> {
  const out: Record<string, Record<string, string[]>> = {};
  for (const [repository, digests] of inv.byRepository) {
    out[repository] = {};
    for (const [d, consumers] of digests) out[repository]![d] = consumers.map(consumerKey).sort();
  }
  return out;
}

describe('mergeInventories: one inventory from the ECS and Lambda parts', () => {
  it('unions repositories and digests, keeping every consumer of a digest both parts saw', () => {
    const ecs = inventory('2026-11-26T10:00:01Z', [
      ['app', digest(1), [service, task]],
      ['api', digest(3), [service]],
    ]);
    const lambda = inventory('2026-11-26T10:00:02Z', [
      ['app', digest(1), [fn]],
      ['app', digest(2), [fn]],
    ]);

    const merged = mergeInventories([ecs, lambda]);

    expect([...merged.byRepository.keys()]).toEqual(['app', 'api']);
    expect(merged.byRepository.get('app')!.get(digest(1))).toEqual([service, task, fn]);
    expect(merged.byRepository.get('app')!.get(digest(2))).toEqual([fn]);
    expect(merged.byRepository.get('api')!.get(digest(3))).toEqual([service]);
  });

  it('lists a consumer seen by two parts once', () => {
    const merged = mergeInventories([
      inventory('2026-11-26T10:00:00Z', [['app', digest(1), [fn]]]),
      inventory('2026-11-26T10:00:00Z', [['app', digest(1), [{ ...fn }, task]]]),
    ]);
    expect(merged.byRepository.get('app')!.get(digest(1))).toEqual([fn, task]);
  });

  it('keeps two consumers that differ in any identifying field', () => {
    const otherAlias: Consumer = { ...fn, arn: `${fn.arn}:live` };
    const merged = mergeInventories([inventory('2026-11-26T10:00:00Z', [['app', digest(1), [fn, otherAlias]]])]);
    expect(merged.byRepository.get('app')!.get(digest(1))).toEqual([fn, otherAlias]);
  });

  it('reports every gap of every part, in order', () => {
    const merged = mergeInventories([
      inventory('2026-11-26T10:00:00Z', [], [{ reason: 'ecs gap' }]),
      inventory(
        '2026-11-26T10:00:00Z',
        [],
        [{ reason: 'lambda gap 1', repositories: ['app'] }, { reason: 'lambda 2' }],
      ),
    ]);
    expect(merged.gaps).toEqual([
      { reason: 'ecs gap' },
      { reason: 'lambda gap 1', repositories: ['app'] },
      { reason: 'lambda 2' },
    ]);
  });

  it('is as fresh as its oldest part: takenAt is the earliest', () => {
    const merged = mergeInventories([
      inventory('2026-11-26T10:00:05Z', []),
      inventory('2026-11-26T10:00:01Z', []),
      inventory('2026-11-26T10:00:03Z', []),
    ]);
    expect(merged.takenAt.toISOString()).toBe('2026-11-26T10:00:01.000Z');
  });

  it('does not change its inputs', () => {
    const ecs = inventory('2026-11-26T10:00:00Z', [['app', digest(1), [service]]], [{ reason: 'g' }]);
    mergeInventories([ecs, inventory('2026-11-26T10:00:00Z', [['app', digest(1), [fn]]])]);
    expect(ecs.byRepository.get('app')!.get(digest(1))).toEqual([service]);
    expect(ecs.gaps).toEqual([{ reason: 'g' }]);
  });

  it('drops a digest listed with no consumer: nothing to name in an alert, nothing in use', () => {
    const merged = mergeInventories([
      inventory('2026-11-26T10:00:00Z', [
        ['app', digest(1), []],
        ['app', digest(2), [fn]],
      ]),
    ]);
    expect([...merged.byRepository.get('app')!.keys()]).toEqual([digest(2)]);
  });

  it('refuses an empty list: there is no time to report', () => {
    expect(() => mergeInventories([])).toThrow(/at least one inventory/);
  });

  it('as a set, is the union of its parts whatever their order, and merging twice changes nothing', () => {
    const consumerArb = fc.record({
      kind: fc.constantFrom<Consumer['kind']>('ecs-task', 'ecs-service', 'lambda-function'),
      arn: fc.constantFrom('a1', 'a2', 'a3'),
      image: fc.constantFrom(`${HOST}/app:prod`, `${HOST}/app:v1`),
    });
    const partArb = fc
      .tuple(
        fc.array(
          fc.tuple(
            fc.constantFrom('app', 'api'),
            fc.integer({ min: 1, max: 3 }).map(digest),
            fc.array(consumerArb, { minLength: 1, maxLength: 3 }),
          ),
          { maxLength: 6 },
        ),
        fc.integer({ min: 0, max: 10_000 }),
      )
      .map(([entries, seconds]) => inventory(new Date(Date.UTC(2026, 10, 26) + seconds * 1000).toISOString(), entries));

    fc.assert(
      fc.property(fc.array(partArb, { minLength: 1, maxLength: 4 }), (parts) => {
        const merged = mergeInventories(parts);
        const reversed = mergeInventories([...parts].reverse());
        expect(flatten(reversed)).toEqual(flatten(merged));
        expect(flatten(mergeInventories([merged, merged]))).toEqual(flatten(merged));
        // every (repository, digest, consumer) of a part is in the merge, exactly once
        for (const part of parts) {
          for (const [repository, digests] of part.byRepository) {
            for (const [d, consumers] of digests) {
              const keys = merged.byRepository.get(repository)!.get(d)!.map(consumerKey);
              for (const c of consumers) expect(keys.filter((k) => k === consumerKey(c))).toHaveLength(1);
            }
          }
        }
        expect(merged.takenAt.getTime()).toBe(Math.min(...parts.map((p) => p.takenAt.getTime())));
      }),
    );
  });
});

describe('InventoryCollector', () => {
  it('files consumers by repository and digest, each once, in first-seen order', () => {
    const collector = new InventoryCollector();
    collector.add('app', digest(1), fn);
    collector.add('app', digest(1), task);
    collector.add('app', digest(1), { ...fn });
    collector.add('api', digest(2), service);
    expect(flatten({ takenAt: new Date(0), byRepository: collector.byRepository(), gaps: [] })).toEqual({
      app: { [digest(1)]: [consumerKey(fn), consumerKey(task)].sort() },
      api: { [digest(2)]: [consumerKey(service)] },
    });
    expect(collector.byRepository().get('app')!.get(digest(1))).toEqual([fn, task]);
  });
});

describe('gapConcerns', () => {
  it('given a gap that names repositories, then it concerns those and no other', () => {
    const gap: InventoryGap = { reason: 'app:prod unknown', repositories: ['app'] };
    expect(gapConcerns(gap, 'app')).toBe(true);
    expect(gapConcerns(gap, 'api')).toBe(false);
  });

  it('given a gap that names no repository, then it concerns every repository', () => {
    expect(gapConcerns({ reason: 'DescribeTasks MISSING' }, 'anything')).toBe(true);
  });
});
