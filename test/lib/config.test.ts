/**
 * Reading the deployment's configuration from CDK context: `-c key=value` gives strings, cdk.json may give
 * lists and booleans; every problem is reported at once, naming the context key.
 */
import * as cxapi from 'aws-cdk-lib/cx-api';
import { describe, expect, it } from 'vitest';
import { ConfigError, configFromContext, unknownContextKeyProblems } from '../../lib/config';

/** Today, fixed, so the schedule checks that look ahead do not change with the day the tests run. */
const NOW = new Date('2026-11-30T09:00:00Z');

function contextOf(values: Record<string, unknown>): (key: string) => unknown {
  return (key) => values[key];
}

function problemsOf(values: Record<string, unknown>, now: Date = NOW): readonly string[] {
  try {
    configFromContext(contextOf(values), { keys: Object.keys(values), now });
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

describe('configFromContext', () => {
  it('reads one alert address and defaults to every repository, no dry run, the default prefix', () => {
    const config = configFromContext(contextOf({ alertEmail: 'ops@example.com' }));

    expect(config).toEqual({ alertEmails: ['ops@example.com'], repositories: [], dryRun: false });
    expect(config).not.toHaveProperty('tagPrefix');
  });

  it('splits comma-separated addresses and repositories from the command line, trimming blanks', () => {
    const config = configFromContext(
      contextOf({ alertEmail: 'ops@example.com, sre@example.com', repositories: 'app, team/api,' }),
    );

    expect(config.alertEmails).toEqual(['ops@example.com', 'sre@example.com']);
    expect(config.repositories).toEqual(['app', 'team/api']);
  });

  it('accepts lists and booleans as cdk.json writes them', () => {
    const config = configFromContext(
      contextOf({ alertEmail: ['ops@example.com'], repositories: ['app'], dryRun: true, tagPrefix: 'keep' }),
    );

    expect(config).toEqual({
      alertEmails: ['ops@example.com'],
      repositories: ['app'],
      dryRun: true,
      tagPrefix: 'keep',
    });
  });

  it('reads dryRun=true and dryRun=false from the command line', () => {
    expect(configFromContext(contextOf({ alertEmail: 'a@example.com', dryRun: 'true' })).dryRun).toBe(true);
    expect(configFromContext(contextOf({ alertEmail: 'a@example.com', dryRun: 'FALSE' })).dryRun).toBe(false);
  });

  it('fails when no alert address is given, and says how to pass one', () => {
    expect(problemsOf({})).toEqual([
      'alertEmail is required: pass -c alertEmail=ops@example.com (comma-separate several)',
    ]);
  });

  it('reports every problem at once, each naming its context key', () => {
    const problems = problemsOf({
      alertEmail: 'ops.example.com',
      tagPrefix: '-bad',
      repositories: 'App',
      dryRun: 'yes',
    });

    // Values that cannot be read come first, then what the shared validation finds in the readable ones.
    expect(problems).toHaveLength(4);
    expect(problems[0]).toBe('dryRun must be true or false, got "yes"');
    expect(problems[1]).toMatch(/^alertEmail: "ops\.example\.com" is not an email address$/);
    expect(problems[2]).toMatch(/^tagPrefix: "-bad" must match \[a-zA-Z0-9_\]/);
    expect(problems[3]).toMatch(/^repositories: "App" is not a valid ECR repository name/);
  });

  it('refuses a prefix that would make protective tags longer than 128 characters', () => {
    expect(problemsOf({ alertEmail: 'a@example.com', tagPrefix: 'p'.repeat(57) })[0]).toMatch(
      /^tagPrefix: "p{57}" is 57 characters; at most 56/,
    );
    expect(configFromContext(contextOf({ alertEmail: 'a@example.com', tagPrefix: 'p'.repeat(56) })).tagPrefix).toBe(
      'p'.repeat(56),
    );
  });

  it('leaves the reconcile settings to the construct when no context key names them', () => {
    const config = configFromContext(contextOf({ alertEmail: 'ops@example.com' }));

    expect(config).not.toHaveProperty('reconcile');
    expect(config).not.toHaveProperty('reconcileSchedule');
    expect(config).not.toHaveProperty('releaseAfterDays');
  });

  it('reads the reconcile settings from the command line (strings) and from cdk.json (boolean, number)', () => {
    expect(
      configFromContext(
        contextOf({
          alertEmail: 'a@example.com',
          reconcile: 'true',
          reconcileSchedule: ' rate(2 hours) ',
          releaseAfterDays: '30',
        }),
      ),
    ).toMatchObject({ reconcile: true, reconcileSchedule: 'rate(2 hours)', releaseAfterDays: 30 });
    expect(
      configFromContext(
        contextOf({ alertEmail: 'a@example.com', reconcileSchedule: 'cron(0 */6 * * ? *)', releaseAfterDays: 0 }),
      ),
    ).toMatchObject({ reconcileSchedule: 'cron(0 */6 * * ? *)', releaseAfterDays: 0 });
    expect(configFromContext(contextOf({ alertEmail: 'a@example.com', reconcile: false })).reconcile).toBe(false);
  });

  it('given -c listBound in minutes or hours, then the catch-up bound is read in minutes; below 15 minutes is refused', () => {
    expect(configFromContext(contextOf({ alertEmail: 'a@example.com', listBound: '375' })).listBoundMinutes).toBe(375);
    expect(configFromContext(contextOf({ alertEmail: 'a@example.com', listBound: '7 hours' })).listBoundMinutes).toBe(
      420,
    );
    expect(configFromContext(contextOf({ alertEmail: 'a@example.com' }))).not.toHaveProperty('listBoundMinutes');
    expect(problemsOf({ alertEmail: 'a@example.com', listBound: '10' })).toEqual([
      'listBound must be whole minutes or hours of at least 15 minutes (e.g. 375 or "7 hours"), got "10"',
    ]);
    expect(problemsOf({ alertEmail: 'a@example.com', reconcile: 'false', listBound: '420' })).toEqual([
      'listBound is set but reconcile is false; drop one of them',
    ]);
  });

  it('reports every bad reconcile setting at once, each naming its context key', () => {
    const problems = problemsOf({
      alertEmail: 'a@example.com',
      reconcile: 'sometimes',
      reconcileSchedule: 'rate(1 minute)',
      releaseAfterDays: '3651',
    });

    expect(problems).toEqual([
      'reconcile must be true or false, got "sometimes"',
      'reconcileSchedule: "rate(1 minute)" must be between 15 minutes (the reconcile timeout, so runs do not overlap) and 12 hours (so a run falls well within ECR\'s 24-hour expiry window)',
      'releaseAfterDays must be a whole number of days from 0 (never release) to 3650, got 3651',
    ]);
  });

  it('refuses a grace period that is not a whole number, and a schedule that is not an expression', () => {
    expect(problemsOf({ alertEmail: 'a@example.com', releaseAfterDays: '30d' })).toEqual([
      'releaseAfterDays must be a whole number of days from 0 (never release) to 3650, got "30d"',
    ]);
    expect(problemsOf({ alertEmail: 'a@example.com', releaseAfterDays: 1.5 })).toEqual([
      'releaseAfterDays must be a whole number of days from 0 (never release) to 3650, got 1.5',
    ]);
    expect(problemsOf({ alertEmail: 'a@example.com', reconcileSchedule: 6 })).toEqual([
      'reconcileSchedule must be a string, got 6',
    ]);
    expect(problemsOf({ alertEmail: 'a@example.com', reconcileSchedule: 'cron(0 6 * * *)' })).toEqual([
      'reconcileSchedule: "cron(0 6 * * *)" must have six fields: minutes hours day-of-month month day-of-week year',
    ]);
  });

  it('refuses a schedule or a release with the reconcile turned off, and allows release 0', () => {
    expect(
      problemsOf({
        alertEmail: 'a@example.com',
        reconcile: 'false',
        reconcileSchedule: 'rate(6 hours)',
        releaseAfterDays: '30',
      }),
    ).toEqual([
      'reconcileSchedule is set but reconcile is false; drop one of them',
      'releaseAfterDays is 30 but reconcile is false; protections are released only by the scheduled reconcile',
    ]);
    expect(
      configFromContext(contextOf({ alertEmail: 'a@example.com', reconcile: 'false', releaseAfterDays: '0' })),
    ).toMatchObject({
      reconcile: false,
      releaseAfterDays: 0,
    });
  });

  it('reads the lifecycle check and the opt-in shield, and refuses a shield without a check', () => {
    expect(
      configFromContext(
        contextOf({ alertEmail: 'a@example.com', lifecycleCheck: 'preview', installLifecycleShield: 'true' }),
      ),
    ).toMatchObject({
      lifecycleCheck: 'preview',
      installLifecycleShield: true,
    });
    expect(configFromContext(contextOf({ alertEmail: 'a@example.com' }))).not.toHaveProperty('lifecycleCheck');
    expect(() =>
      configFromContext(
        contextOf({ alertEmail: 'a@example.com', lifecycleCheck: 'always', installLifecycleShield: 'yes' }),
      ),
    ).toThrow(
      /installLifecycleShield must be true or false, got "yes"[\s\S]*lifecycleCheck must be off, evaluate or preview, got "always"/,
    );
    expect(() =>
      configFromContext(
        contextOf({ alertEmail: 'a@example.com', lifecycleCheck: 'off', installLifecycleShield: true }),
      ),
    ).toThrow(/installLifecycleShield is true but the shield is installed only by the reconcile's lifecycle check/);
  });

  it('reads the opt-in lifecycle expiry watch and CloudTrail lookup of who pushed, absent = the construct default', () => {
    expect(
      configFromContext(contextOf({ alertEmail: 'a@example.com', watchLifecycleExpiry: 'true', lookupPushers: true })),
    ).toMatchObject({
      watchLifecycleExpiry: true,
      lookupPushers: true,
    });
    const defaults = configFromContext(contextOf({ alertEmail: 'a@example.com' }));
    expect(defaults).not.toHaveProperty('watchLifecycleExpiry');
    expect(defaults).not.toHaveProperty('lookupPushers');
    expect(() =>
      configFromContext(contextOf({ alertEmail: 'a@example.com', watchLifecycleExpiry: 'on', lookupPushers: 'yes' })),
    ).toThrow(
      /watchLifecycleExpiry must be true or false, got "on"[\s\S]*lookupPushers must be true or false, got "yes"/,
    );
  });

  it('refuses context values of the wrong type', () => {
    expect(problemsOf({ alertEmail: 42 })).toEqual([
      'alertEmail must be a comma-separated string or a list of strings, got 42',
    ]);
    expect(problemsOf({ alertEmail: 'a@example.com', tagPrefix: 7 })).toEqual(['tagPrefix must be a string, got 7']);
  });

  it('given -c dryrun=true, when the config is read, then it is refused with "did you mean dryRun?"', () => {
    // Ignored, the misspelt key would deploy with dry run off: the guard would tag while the user meant to watch.
    expect(problemsOf({ alertEmail: 'a@example.com', dryrun: 'true' })).toEqual([
      'dryrun is not a setting of this app; did you mean dryRun?',
    ]);
  });

  it('given keys that look like ours (case, separators, a typo, a part), when read, then each names the key it meant', () => {
    expect(
      unknownContextKeyProblems(['DRY_RUN', 'alertEmails', 'repository', 'tag-prefix', 'releaseAfterDay', 'schedule']),
    ).toEqual([
      'DRY_RUN is not a setting of this app; did you mean dryRun?',
      'alertEmails is not a setting of this app; did you mean alertEmail?',
      'repository is not a setting of this app; did you mean repositories?',
      'tag-prefix is not a setting of this app; did you mean tagPrefix?',
      'releaseAfterDay is not a setting of this app; did you mean releaseAfterDays?',
      'schedule is not a setting of this app; did you mean reconcileSchedule?',
    ]);
  });

  it("given the CDK's own context keys and unrelated ones, when the config is read, then none is refused", () => {
    const cdkKeys = [
      ...Object.keys(cxapi.NEW_PROJECT_DEFAULT_CONTEXT),
      ...Object.keys(cxapi.CURRENTLY_RECOMMENDED_FLAGS),
      ...Object.keys(cxapi.CURRENT_VERSION_FLAG_DEFAULTS),
      ...cxapi.FUTURE_FLAGS_EXPIRED,
      ...Object.entries(cxapi)
        .filter(([name, value]) => /_CONTEXT(_KEY)?$|_KEY$/.test(name) && typeof value === 'string')
        .map(([, value]) => value as string),
      'cli-telemetry',
      'acknowledged-issue-numbers',
      'availability-zones:account=111122223333:region=eu-west-1',
      'aws:cdk:enable-path-metadata',
      'aws:cdk:bundling-stacks',
      'stage',
      'costCenter',
    ];
    expect(cdkKeys.length).toBeGreaterThan(50);

    expect(unknownContextKeyProblems(cdkKeys)).toEqual([]);
  });

  it('given releaseAfterDays=-3, when the config is read, then the problem says the allowed range', () => {
    expect(problemsOf({ alertEmail: 'a@example.com', releaseAfterDays: '-3' })).toEqual([
      'releaseAfterDays must be a whole number of days from 0 (never release) to 3650, got -3',
    ]);
  });

  it('given an empty -c repositories=, when the config is read, then it is refused instead of meaning every repository', () => {
    for (const empty of ['', ' , ', []]) {
      expect(problemsOf({ alertEmail: 'a@example.com', repositories: empty })).toEqual([
        'repositories is set but names no repository; leave it out to guard every repository of the account and region, or name them',
      ]);
    }
    expect(configFromContext(contextOf({ alertEmail: 'a@example.com' })).repositories).toEqual([]);
  });

  it('given a cron that fires more often than every 15 minutes, when the config is read, then it is refused like rate(1 minute)', () => {
    expect(problemsOf({ alertEmail: 'a@example.com', reconcileSchedule: 'cron(* * * * ? *)' })).toEqual([
      'reconcileSchedule: "cron(* * * * ? *)" fires as little as 1 minute apart; runs must be at least 15 minutes apart (the reconcile timeout, so runs do not overlap), as a rate must',
    ]);
  });

  it('given a cron whose only year is past, when the config is read on a fixed date, then it is refused as never firing', () => {
    expect(problemsOf({ alertEmail: 'a@example.com', reconcileSchedule: 'cron(0 */6 * * ? 2025)' })).toEqual([
      'reconcileSchedule: "cron(0 */6 * * ? 2025)" never fires after 2026-11-30T09:00:00.000Z, so the reconcile would never run',
    ]);
    // The same expression is fine the day before it stops: "now" is a parameter, not the clock.
    expect(
      problemsOf({ alertEmail: 'a@example.com', reconcileSchedule: 'cron(0 */6 * * ? 2026)', dryRun: 'x' }),
    ).toEqual(['dryRun must be true or false, got "x"']);
    expect(
      problemsOf(
        { alertEmail: 'a@example.com', reconcileSchedule: 'cron(0 */6 * * ? 2026)' },
        new Date('2027-01-01T00:00:00Z'),
      ),
    ).toHaveLength(1);
  });

  it('puts every problem into the error message, one per line', () => {
    expect(() => configFromContext(contextOf({ dryRun: 'maybe' }))).toThrow(
      /Invalid ecr-digest-guard configuration:\n {2}- dryRun must be true or false.*\n {2}- alertEmail is required/,
    );
  });
});
