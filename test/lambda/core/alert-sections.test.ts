import { describe, expect, it } from 'vitest';
import { toSnsSubject } from '../../../lambda/adapters/sns';
import {
  MAX_SUBJECT_LENGTH,
  alertLogParts,
  countsOf,
  escapedBytes,
  fitAlertJson,
  toAlertSubject,
  withFullList,
} from '../../../lambda/core/alert-size';
import type { Alert } from '../../../lambda/core/ports';

const entries = (n: number, what: string) => Array.from({ length: n }, (_, i) => ({ what, i, pad: 'x'.repeat(200) }));
const alertWith = (json: unknown): Alert => ({
  subject: 's',
  text: 't',
  json,
  severity: 'WARNING',
  repository: 'app',
  events: ['protected'],
});

describe('sections of an alert: any array reached through objects, whatever its name', () => {
  const json = {
    schema: 'ecr-digest-guard/alert@1',
    events: ['protected'],
    protected: entries(300, 'protected'),
    possiblyInUse: entries(50, 'possibly'),
    reconcile: { releases: entries(120, 'release'), lifecycle: { problems: ['unreadable'] } },
  };

  it('given a new top-level section and nested ones, when counted, then each is counted by its path and events is not', () => {
    expect(countsOf(json)).toEqual({
      protected: 300,
      possiblyInUse: 50,
      'reconcile.releases': 120,
      'reconcile.lifecycle.problems': 1,
    });
  });

  it('given them too large for the room, when fitted, then every section keeps its first entries and the cut is counted', () => {
    const fitted = fitAlertJson(json, 40_000, escapedBytes) as typeof json & {
      complete: boolean;
      omitted: Record<string, number>;
    };

    expect(escapedBytes(JSON.stringify(fitted))).toBeLessThanOrEqual(40_000);
    expect(escapedBytes(JSON.stringify(fitted))).toBeGreaterThan(40_000 - 300);
    expect(fitted).toMatchObject({ schema: 'ecr-digest-guard/alert@1', events: ['protected'], complete: false });
    expect(fitted.protected).toEqual(json.protected.slice(0, fitted.protected.length));
    expect(fitted.possiblyInUse).toEqual(json.possiblyInUse.slice(0, fitted.possiblyInUse.length));
    expect(fitted.reconcile.releases).toEqual(json.reconcile.releases.slice(0, fitted.reconcile.releases.length));
    expect(fitted.reconcile.lifecycle.problems).toEqual(['unreadable']);
    expect(fitted.protected.length + (fitted.omitted.protected ?? 0)).toBe(300);
    expect(fitted.possiblyInUse.length + (fitted.omitted.possiblyInUse ?? 0)).toBe(50);
    expect(fitted.reconcile.releases.length + (fitted.omitted['reconcile.releases'] ?? 0)).toBe(120);
    // an equal share first: no section is starved by one that comes before it
    expect(
      Math.min(fitted.protected.length, fitted.possiblyInUse.length, fitted.reconcile.releases.length),
    ).toBeGreaterThan(10);
  });

  it('given a JSON that fits, when fitted, then it is returned unchanged, without complete or omitted', () => {
    expect(fitAlertJson(json, 1_000_000, escapedBytes)).toBe(json);
  });
});

describe('the full list in the logs', () => {
  it('given every entry, when logged in parts, then the parts hold each entry once, in order, and each part is within its size', () => {
    const json = { protected: entries(1000, 'protected'), gaps: ['a', 'b'] };
    const delivered = withFullList(alertWith(json), '/aws/lambda/guard');

    const parts = alertLogParts(delivered, 16 * 1024);

    expect(parts[0]).toMatchObject({ alertPart: 1, section: 'alert' });
    expect(JSON.parse(parts[0]!.entries)).toMatchObject({ subject: 's', json: { protected: [], gaps: [] } });
    expect(parts.every((p) => escapedBytes(p.entries) <= 16 * 1024 && p.alertParts === parts.length)).toBe(true);
    const logged = parts.filter((p) => p.section === 'protected').flatMap((p) => JSON.parse(p.entries) as unknown[]);
    expect(logged).toEqual(json.protected);
    expect(parts.filter((p) => p.section === 'gaps').flatMap((p) => JSON.parse(p.entries) as unknown[])).toEqual([
      'a',
      'b',
    ]);
  });

  it('given one entry larger than a part (a digest run by thousands of tasks), when logged, then its pieces each fit and join back', () => {
    const huge = {
      digest: 'sha256:1',
      consumers: Array.from({ length: 2_000 }, (_, i) => ({ kind: 'ecs-task', arn: `task/${i}`, image: 'app:prod' })),
    };
    const delivered = withFullList(alertWith({ protected: [huge] }), undefined);

    const pieces = alertLogParts(delivered, 16 * 1024).filter((p) => p.section === 'protected');

    expect(pieces.length).toBeGreaterThan(1);
    expect(pieces.every((p) => escapedBytes(p.entries) <= 16 * 1024)).toBe(true);
    expect(pieces.map((p) => p.piece)).toEqual(pieces.map((_, i) => `${i + 1}/${pieces.length}`));
    expect(JSON.parse(pieces.map((p) => p.entries).join(''))).toEqual(huge);
  });

  it('given the same alert twice, when named, then both get the same id, so the query dedups parts logged twice', () => {
    const a = withFullList(alertWith({ protected: entries(3, 'p') }), undefined);
    const b = withFullList(alertWith({ protected: entries(3, 'p') }), undefined);
    const c = withFullList(alertWith({ protected: entries(4, 'p') }), undefined);
    expect(a.fullList.alertId).toBe(b.fullList.alertId);
    expect(c.fullList.alertId).not.toBe(a.fullList.alertId);
  });

  it('given a text that lists every entry, when delivered, then it carries no full-list section, while the JSON says where', () => {
    const delivered = withFullList(alertWith({ schema: 'x', protected: [] }), '/aws/lambda/guard');
    expect(delivered.text).toBe('t');
    expect(delivered.json).toMatchObject({ counts: { protected: 0 }, fullList: { logGroup: '/aws/lambda/guard' } });
  });
});

describe('subjects: one function cuts them, for the core and the SNS adapter', () => {
  const repository = `platform-team/${'shared/'.repeat(33)}payments-api`;

  it('given a long repository name, when the subject is made, then it keeps the start and the end of the name', () => {
    const subject = toAlertSubject('ECR digest guard: CRITICAL: 2 in-use images deleted from ', repository);
    expect(subject.length).toBe(MAX_SUBJECT_LENGTH);
    expect(subject).toMatch(
      /^ECR digest guard: CRITICAL: 2 in-use images deleted from platform-team.*\.\.\..*\/payments-api$/,
    );
  });

  it('given a subject the core made, when the SNS adapter prepares it, then it is unchanged', () => {
    const subject = toAlertSubject('ECR digest guard: Protected 300 in-use images in ', repository);
    expect(toSnsSubject(subject)).toBe(subject);
  });

  it('given a lead that alone is too long, when the subject is made, then it is cut at its end', () => {
    const subject = toAlertSubject(`${'very long lead '.repeat(10)}`, 'app');
    expect(subject.length).toBeLessThanOrEqual(MAX_SUBJECT_LENGTH);
    expect(subject.endsWith('...')).toBe(true);
  });
});
