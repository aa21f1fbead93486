/**
 * The catch-up rule of the DigestGuard construct as CloudFormation: a second schedule on the reconcile function,
 * every 15 minutes, in every shape where the reconcile keeps the index; its input keeps the scheduled event's
 * account, region and time and adds the marker; it retries and dead-letters as the scheduled rule does; the bound
 * reaches the function as LIST_BOUND_MINUTES; the reconcile role may read the workload status items.
 */
import { Duration } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import { beforeAll, describe, expect, it } from 'vitest';
import type { DigestGuardProps } from '../../lib/digest-guard';
import {
  actionsOf,
  logicalIdOf,
  problemsOf,
  roleStatements,
  type SynthesizedGuard as Synthesized,
  synthesizeGuard,
} from '../support/cdk-app';

function synthesize(props: DigestGuardProps): Synthesized {
  return synthesizeGuard({ alertEmails: ['ops@example.com'], ...props }, { bundle: false, stackId: 'CatchUpTest' });
}

function rulesOf(s: Synthesized): Record<string, any>[] {
  return Object.values(s.template.toJSON().Resources as Record<string, any>).filter(
    (r) => r.Type === 'AWS::Events::Rule',
  );
}

function catchUpRules(s: Synthesized): Record<string, any>[] {
  return rulesOf(s).filter((r) => r.Properties.ScheduleExpression === 'rate(15 minutes)');
}

function listBoundOf(s: Synthesized): unknown {
  const fn = s.template.toJSON().Resources[logicalIdOf(s.stack, s.guard.reconcileFunction)];
  return fn.Properties.Environment.Variables.LIST_BOUND_MINUTES;
}

describe('the catch-up rule with defaults (one account)', () => {
  let s: Synthesized;
  beforeAll(() => {
    s = synthesize({});
  });

  it('given the defaults, then a second rule runs the reconcile every 15 minutes (a fresh install needs a first list too)', () => {
    const [rule, ...more] = catchUpRules(s);
    expect(more).toEqual([]);
    expect(rule?.Properties.Targets).toHaveLength(1);
    expect(rule?.Properties.Targets[0].Arn).toEqual({
      'Fn::GetAtt': [logicalIdOf(s.stack, s.guard.reconcileFunction), 'Arn'],
    });
    expect(logicalIdOf(s.stack, s.guard.reconcileCatchUpRule)).toBeDefined();
  });

  it("given the catch-up rule, then its input keeps the event's account, region and time and adds catchUp: true", () => {
    const transformer = catchUpRules(s)[0]?.Properties.Targets[0].InputTransformer;
    expect(transformer.InputPathsMap).toEqual({ account: '$.account', region: '$.region', time: '$.time' });
    const filled = String(transformer.InputTemplate)
      .replace('<account>', '"111122223333"')
      .replace('<region>', '"eu-west-1"')
      .replace('<time>', '"2026-11-26T10:00:00Z"');
    expect(JSON.parse(filled)).toEqual({
      account: '111122223333',
      region: 'eu-west-1',
      time: '2026-11-26T10:00:00Z',
      catchUp: true,
    });
  });

  it('given the catch-up rule, then it retries and dead-letters as the scheduled rule does', () => {
    const scheduled = s.template.toJSON().Resources[logicalIdOf(s.stack, s.guard.reconcileRule)].Properties.Targets[0];
    const target = catchUpRules(s)[0]?.Properties.Targets[0];
    expect(target.RetryPolicy).toEqual(scheduled.RetryPolicy);
    expect(target.DeadLetterConfig).toEqual(scheduled.DeadLetterConfig);
    expect(target.DeadLetterConfig).toEqual({
      Arn: { 'Fn::GetAtt': [logicalIdOf(s.stack, s.guard.reconcileDeadLetterQueue), 'Arn'] },
    });
  });

  it('given the default rate(6 hours), then the bound is 6 hours 15 minutes: LIST_BOUND_MINUTES 375', () => {
    expect(listBoundOf(s)).toBe('375');
  });

  it('given the catch-up, then the reconcile role may GetItem the workload status items, and only by their key prefix', () => {
    const statements = roleStatements(s.template, s.stack, s.guard.reconcileFunction?.role);
    const status = statements.filter((st) => (st as { Sid?: string }).Sid === 'ReadWorkloadListStatus');
    expect(status).toHaveLength(1);
    expect(actionsOf(status[0]!)).toEqual(['dynamodb:GetItem']);
    expect((status[0] as { Condition?: unknown }).Condition).toEqual({
      'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['workload#*'] },
    });
  });
});

describe('the catch-up rule in other shapes', () => {
  it('given reconcile off, then there is no catch-up rule (no index is kept)', () => {
    const s = synthesize({ reconcile: false });
    expect(catchUpRules(s)).toEqual([]);
    expect(s.guard.reconcileCatchUpRule).toBeUndefined();
  });

  it('given workload accounts, then there is one catch-up rule', () => {
    const s = synthesize({ workloadAccounts: ['222222222222'] });
    expect(catchUpRules(s)).toHaveLength(1);
  });

  it.each([
    { name: 'rate(1 hour)', reconcileSchedule: events.Schedule.rate(Duration.hours(1)), expected: '75' },
    {
      name: 'a cron schedule (no one interval: 12 hours + 15 minutes)',
      reconcileSchedule: events.Schedule.cron({ minute: '0', hour: '*/4' }),
      expected: '735',
    },
    {
      name: 'an explicit listBound of 2 hours',
      reconcileSchedule: events.Schedule.rate(Duration.hours(6)),
      listBound: Duration.hours(2),
      expected: '120',
    },
  ])('given $name, then LIST_BOUND_MINUTES is $expected', ({ reconcileSchedule, listBound, expected }) => {
    expect(listBoundOf(synthesize({ reconcileSchedule, ...(listBound ? { listBound } : {}) }))).toBe(expected);
  });

  it('refuses a listBound below 15 minutes or not in whole minutes', () => {
    expect(problemsOf({ listBound: Duration.minutes(10) })).toEqual([
      "listBound must be a whole number of minutes of at least 15 (the catch-up's period), got 10 minutes",
    ]);
    expect(problemsOf({ listBound: Duration.seconds(1000) })).toHaveLength(1);
  });
});
