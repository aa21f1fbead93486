import { describe, expect, it } from 'vitest';
import { MAX_SUBJECT_LENGTH, buildRepositoryAlert, type RepositoryReport } from '../../../lambda/core/alert';
import type { PushEvent } from '../../../lambda/core/types';

const d = (c: string) => `sha256:${c.repeat(64)}`;
const push = (tag: string, digest: string, iso: string): PushEvent => ({
  action: 'PUSH',
  messageId: iso,
  eventId: iso,
  time: new Date(iso),
  account: '111122223333',
  region: 'eu-west-1',
  repository: 'app',
  digest,
  tag,
  attempt: 1,
});
const web = {
  kind: 'ecs-service' as const,
  cluster: 'prod',
  service: 'web',
  container: 'web',
  image: '111122223333.dkr.ecr.eu-west-1.amazonaws.com/app:prod',
};

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
    expect(alert.text).toContain(
      'ECS service prod/web (container web, deployed as 111122223333.dkr.ecr.eu-west-1.amazonaws.com/app:prod)',
    );
    expect(alert.text).toContain(`Tag "prod" now points to ${d('b')} (pushed 2026-11-26T10:00:03.000Z).`);
    expect(alert.text).toMatch(/Likely cause: tag "prod" was pushed 2 times with different images within 2 s/);
    expect(alert.text).toMatch(/Added the protective tag digest-guard-sha256-a{64} to sha256:aaaaaaaaaaaa…/);
    expect(alert.text).toMatch(/one tag per build/);
    expect(alert.text).toContain('tagPatternList ["digest-guard-sha256-*"], countType imageCountMoreThan 9999');
  });

  it('given users read from the in-use index (no container name recorded), when alerted, then no "container ?" placeholder is shown', () => {
    const { container: _, ...fromIndex } = web;
    const task = { ...fromIndex, kind: 'ecs-task' as const, arn: 'arn:aws:ecs:eu-west-1:222222222222:task/prod/t1' };
    const alert = buildRepositoryAlert({
      ...base,
      protected: [{ ...base.protected[0]!, consumers: [fromIndex, task] }],
    })!;

    expect(alert.text).toContain(
      'ECS service prod/web (deployed as 111122223333.dkr.ecr.eu-west-1.amazonaws.com/app:prod)',
    );
    expect(alert.text).toContain(
      'ECS task prod/t1 of service web (111122223333.dkr.ecr.eu-west-1.amazonaws.com/app:prod)',
    );
    expect(alert.text).not.toContain('container ?');
  });

  it('carries the same facts as JSON for machines', () => {
    const json = buildRepositoryAlert(base)!.json as Record<string, unknown>;
    expect(json).toMatchObject({
      schema: 'ecr-digest-guard/alert@1',
      severity: 'WARNING',
      repository: 'app',
      events: ['protected'],
    });
    expect(json.tagRaces).toEqual([
      {
        tag: 'prod',
        digests: [d('a'), d('b')],
        firstAt: '2026-11-26T10:00:01.000Z',
        lastAt: '2026-11-26T10:00:03.000Z',
      },
    ]);
    expect(JSON.parse(JSON.stringify(json))).toEqual(json);
  });

  it('pages with redeploy advice when an in-use image is gone', () => {
    const alert = buildRepositoryAlert({ ...base, protected: [], gone: [{ digest: d('a'), consumers: [web] }] })!;
    expect(alert.severity).toBe('CRITICAL');
    expect(alert.subject).toBe('ECR digest guard: CRITICAL: 1 in-use image deleted from app');
    expect(alert.text).toMatch(/CannotPullContainerError/);
    expect(alert.text).toMatch(/NOW: redeploy/);
  });

  it('keeps subjects ASCII and under 100 characters for the longest repository names, keeping the end of the name', () => {
    const repository = `${'team/'.repeat(40)}ünïcode-app`.slice(0, 256);
    const alert = buildRepositoryAlert({ ...base, repository })!;
    expect(alert.subject.length).toBeLessThanOrEqual(MAX_SUBJECT_LENGTH);
    expect(alert.subject).toMatch(/^[\x20-\x7e]+$/);
    expect(alert.subject).toMatch(/ in team\/.*\.\.\..*\/unicode-app$/);
  });

  it('lists coverage gaps so partial inventories are not mistaken for complete ones', () => {
    const alert = buildRepositoryAlert({ ...base, gaps: ['service prod/old: revision cannot be described'] })!;
    expect(alert.text).toMatch(/COVERAGE NOTES\n {2}- service prod\/old/);
  });
});

describe('buildRepositoryAlert: root cause', () => {
  const window = { from: new Date('2026-11-26T09:58:01Z'), to: new Date('2026-11-26T10:02:03Z') };

  it('names the principals CloudTrail recorded for the pushes, in push order, with the role behind a session', () => {
    const alert = buildRepositoryAlert({
      ...base,
      pushers: {
        ...window,
        complete: true,
        callers: [
          {
            tag: 'prod',
            digest: d('b'),
            time: new Date('2026-11-26T10:00:03Z'),
            principal: 'arn:aws:sts::111122223333:assumed-role/pipeline-b/run-7',
            sessionIssuer: 'arn:aws:iam::111122223333:role/pipeline-b',
          },
          {
            tag: 'prod',
            digest: d('a'),
            time: new Date('2026-11-26T10:00:01Z'),
            principal: 'arn:aws:iam::111122223333:user/Mary_Major',
          },
        ],
      },
    })!;

    expect(alert.text).toContain(
      [
        '  Who pushed (CloudTrail PutImage events):',
        `    - tag "prod" -> sha256:${'a'.repeat(12)}… at 2026-11-26T10:00:01.000Z by arn:aws:iam::111122223333:user/Mary_Major`,
        `    - tag "prod" -> sha256:${'b'.repeat(12)}… at 2026-11-26T10:00:03.000Z by arn:aws:sts::111122223333:assumed-role/pipeline-b/run-7 (role arn:aws:iam::111122223333:role/pipeline-b)`,
      ].join('\n'),
    );
    expect(alert.text).not.toContain('To look yourself');
    expect(
      (alert.json as { pushers: { callers: { principal: string }[] } }).pushers.callers.map((c) => c.principal),
    ).toHaveLength(2);
  });

  it('says why nobody was named, and gives the lookup to run, when CloudTrail had nothing or gave up', () => {
    const alert = buildRepositoryAlert({
      ...base,
      pushers: { ...window, complete: false, callers: [], note: 'CloudTrail throttled the lookup' },
    })!;

    expect(alert.text).toContain('  Who pushed: not found (CloudTrail throttled the lookup). To look yourself:');
    expect(alert.text).toContain(
      '    aws cloudtrail lookup-events --region eu-west-1 --lookup-attributes AttributeKey=EventName,AttributeValue=PutImage --start-time 2026-11-26T09:58:01.000Z --end-time 2026-11-26T10:02:03.000Z',
    );
  });

  it('says nothing about who pushed when nobody looked', () => {
    expect(buildRepositoryAlert(base)!.text).not.toContain('Who pushed');
    expect((buildRepositoryAlert(base)!.json as { pushers: unknown }).pushers).toBeNull();
  });
});
