import { describe, expect, it } from 'vitest';
import { MAX_SUBJECT_LENGTH, buildRepositoryAlert, type RepositoryReport } from '../../../lambda/core/alert';
import type { PushEvent } from '../../../lambda/core/types';

const d = (c: string) => `sha256:${c.repeat(64)}`;
const push = (tag: string, digest: string, iso: string): PushEvent => ({
  action: 'PUSH', messageId: iso, eventId: iso, time: new Date(iso), account: '111122223333', region: 'eu-west-1', repository: 'app', digest, tag, attempt: 1,
});
const web = { kind: 'ecs-service' as const, cluster: 'prod', service: 'web', container: 'web', image: '111122223333.dkr.ecr.eu-west-1.amazonaws.com/app:prod' };

const base: RepositoryReport = {
  account: '111122223333',
  region: 'eu-west-1',
  repository: 'app',
  dryRun: false,
  tagPrefix: 'digest-guard',
  pushes: [push('prod', d('a'), '2026-11-26T10:00:01Z'), push('prod', d('b'), '2026-11-26T10:00:03Z')],
  protected: [{ digest: d('a'), tag: `digest-guard-sha256-${'a'.repeat(64)}`, consumers: [web], how: 'tagged' }],
  gone: [],
  archived: [],
  restores: [],
  refused: [],
  gaps: [],
};

describe('buildRepositoryAlert', () => {
  it('sends nothing when nothing changed', () => {
    expect(buildRepositoryAlert({ ...base, protected: [] })).toBeUndefined();
  });

  it('tells a person what happened, what the guard did and what to change', () => {
    const alert = buildRepositoryAlert(base)!;
    expect(alert.subject).toBe('ECR digest guard: Protected 1 in-use image in app');
    expect(alert.text).toContain(`Image ${d('a')} has no tag left, but it is still in use:`);
    expect(alert.text).toContain('ECS service prod/web (container web, deployed as 111122223333.dkr.ecr.eu-west-1.amazonaws.com/app:prod)');
    expect(alert.text).toContain(`Tag "prod" now points to ${d('b')} (pushed 2026-11-26T10:00:03.000Z).`);
    expect(alert.text).toMatch(/Likely cause: tag "prod" was pushed 2 times with different images within 2 s/);
    expect(alert.text).toMatch(/Added the protective tag digest-guard-sha256-a{64} to sha256:aaaaaaaaaaaa…/);
    expect(alert.text).toMatch(/one tag per build/);
    expect(alert.text).toContain('tagPatternList ["digest-guard-sha256-*"], countType imageCountMoreThan 9999');
  });

  it('carries the same facts as JSON for machines', () => {
    const json = buildRepositoryAlert(base)!.json as Record<string, unknown>;
    expect(json).toMatchObject({ schema: 'ecr-digest-guard/alert@1', severity: 'WARNING', repository: 'app', events: ['protected'] });
    expect(json.tagRaces).toEqual([{ tag: 'prod', digests: [d('a'), d('b')], firstAt: '2026-11-26T10:00:01.000Z', lastAt: '2026-11-26T10:00:03.000Z' }]);
    expect(JSON.parse(JSON.stringify(json))).toEqual(json);
  });

  it('pages with redeploy advice when an in-use image is gone', () => {
    const alert = buildRepositoryAlert({ ...base, protected: [], gone: [{ digest: d('a'), consumers: [web] }] })!;
    expect(alert.severity).toBe('CRITICAL');
    expect(alert.subject).toBe('ECR digest guard: CRITICAL: 1 in-use image deleted from app');
    expect(alert.text).toMatch(/CannotPullContainerError/);
    expect(alert.text).toMatch(/NOW: redeploy/);
  });

  it('keeps subjects ASCII and under 100 characters for the longest repository names', () => {
    const repository = `${'team/'.repeat(40)}ünïcode-app`.slice(0, 256);
    const alert = buildRepositoryAlert({ ...base, repository })!;
    expect(alert.subject.length).toBeLessThanOrEqual(MAX_SUBJECT_LENGTH);
    expect(alert.subject).toMatch(/^[\x20-\x7e]+$/);
    expect(alert.subject.endsWith('...')).toBe(true);
  });

  it('lists coverage gaps so partial inventories are not mistaken for complete ones', () => {
    const alert = buildRepositoryAlert({ ...base, gaps: ['service prod/old: revision cannot be described'] })!;
    expect(alert.text).toMatch(/COVERAGE NOTES\n {2}- service prod\/old/);
  });
});
