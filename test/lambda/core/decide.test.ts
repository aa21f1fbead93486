import { describe, expect, it } from 'vitest';
import { findTagRaces, findUntaggedInUseDigests, tagsNamedBy } from '../../../lambda/core/decide';
import { protectiveTagFor } from '../../../lambda/core/protective-tag';
import type { Consumer, ImageState, PushEvent } from '../../../lambda/core/types';

const d = (c: string) => `sha256:${c.repeat(64)}`;
const service: Consumer = {
  kind: 'ecs-service',
  cluster: 'prod',
  service: 'web',
  container: 'web',
  image: '111122223333.dkr.ecr.eu-west-1.amazonaws.com/app:prod',
};
const present = (digest: string, tags: string[], storageStatus = 'ACTIVE'): ImageState => ({
  digest,
  present: true,
  tags,
  storageStatus,
});

describe('findUntaggedInUseDigests', () => {
  it.each<[string, ImageState, keyof ReturnType<typeof findUntaggedInUseDigests>]>([
    ['an untagged in-use digest is protected', present(d('a'), []), 'toProtect'],
    [
      'a digest carrying only its protective tag is already protected',
      present(d('a'), [protectiveTagFor(d('a'), 'digest-guard')]),
      'alreadyProtected',
    ],
    [
      'a digest carrying the protective tag of ANOTHER digest still needs its own',
      present(d('a'), [protectiveTagFor(d('b'), 'digest-guard')]),
      'toProtect',
    ],
    ['a digest with a user tag needs nothing', present(d('a'), ['v1']), 'tagged'],
    ['a missing digest is gone', { digest: d('a'), present: false }, 'gone'],
  ])('%s', (_name, state, bucket) => {
    const findings = findUntaggedInUseDigests('app', new Map([[d('a'), [service]]]), [state], 'digest-guard');
    const buckets = ['toProtect', 'alreadyProtected', 'gone'] as const;
    for (const b of buckets) expect(findings[b].length, b).toBe(b === bucket ? 1 : 0);
    expect(findings.tagged).toBe(bucket === 'tagged' ? 1 : 0);
  });

  it('protects with the tag derived from the digest and keeps the consumers', () => {
    const findings = findUntaggedInUseDigests('app', new Map([[d('a'), [service]]]), [present(d('a'), [])], 'guard');
    expect(findings.toProtect).toEqual([
      { digest: d('a'), tag: `guard-sha256-${'a'.repeat(64)}`, consumers: [service] },
    ]);
  });

  it('reports an archived in-use digest even when it is tagged', () => {
    const findings = findUntaggedInUseDigests(
      'app',
      new Map([[d('a'), [service]]]),
      [present(d('a'), ['v1'], 'ARCHIVED')],
      'digest-guard',
    );
    expect(findings.archived).toEqual([{ digest: d('a'), consumers: [service] }]);
  });

  it('refuses to guess when the adapter did not answer for a digest', () => {
    expect(() => findUntaggedInUseDigests('app', new Map([[d('a'), [service]]]), [], 'digest-guard')).toThrow(
      /must answer every digest/,
    );
  });
});

const push = (tag: string | undefined, digest: string, second: number): PushEvent => ({
  action: 'PUSH',
  messageId: `m-${second}`,
  eventId: `e-${second}`,
  time: new Date(Date.UTC(2026, 0, 1, 0, 0, second)),
  account: '111122223333',
  region: 'eu-west-1',
  repository: 'app',
  digest,
  ...(tag ? { tag } : {}),
  attempt: 1,
});

describe('findTagRaces', () => {
  it('names a tag pushed with two digests within the batch (two pipelines)', () => {
    expect(findTagRaces([push('prod', d('a'), 1), push('prod', d('b'), 3), push('dev', d('c'), 2)])).toEqual([
      {
        tag: 'prod',
        digests: [d('a'), d('b')],
        firstAt: new Date(Date.UTC(2026, 0, 1, 0, 0, 1)),
        lastAt: new Date(Date.UTC(2026, 0, 1, 0, 0, 3)),
      },
    ]);
  });

  it('does not call a duplicate delivery of one push a race', () => {
    expect(findTagRaces([push('prod', d('a'), 1), push('prod', d('a'), 1), push(undefined, d('b'), 2)])).toEqual([]);
  });
});

describe('tagsNamedBy', () => {
  it('reads the tag a workload was deployed with, ignoring registry ports and digests', () => {
    expect(
      tagsNamedBy([
        service,
        { kind: 'ecs-task', image: `111122223333.dkr.ecr.eu-west-1.amazonaws.com/team/app:v2@${d('a')}` },
        { kind: 'ecs-task', image: `111122223333.dkr.ecr.eu-west-1.amazonaws.com/app@${d('a')}` },
      ]),
    ).toEqual(['prod', 'v2']);
  });
});
