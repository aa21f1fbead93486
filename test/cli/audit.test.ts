/**
 * `ecr-digest-guard audit` on the simulated account: the demo's incident is found (exit 1), the JSON report
 * validates against its published schema, nothing is written, and failures are reported per region.
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import Ajv2020 from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import { describe, expect, it } from 'vitest';
import { protectiveTagFor } from '../../lambda/core/protective-tag';
import { SimulatedAccount } from '../../sim/account';
import { dockerManifest, ociIndex, ociManifest } from '../../sim/manifests';
import { incidentAccount } from './support/incident';
import { runCliOnSim } from './support/cli-on-sim';

const schema = JSON.parse(readFileSync(path.resolve(__dirname, '../../cli/audit-report.schema.json'), 'utf8'));
const ajv = new Ajv2020({ allErrors: true, strict: true });
addFormats(ajv);
const validate = ajv.compile(schema);
const WRITES = ['PutImage', 'UpdateImageStorageClass', 'BatchDeleteImage', 'PutLifecyclePolicy'];

describe('audit', () => {
  it("given the demo's incident, when audited, then it names the pinned digest and its service and exits 1", async () => {
    const { account, pinned } = incidentAccount();

    const run = await runCliOnSim(['audit'], [account]);

    expect(run.code).toBe(1);
    expect(run.stdout).toContain('eu-west-1');
    expect(run.stdout).toContain('app');
    expect(run.stdout).toContain(pinned);
    expect(run.stdout).toContain('prod/web');
    expect(run.stdout).toContain(protectiveTagFor(pinned, 'digest-guard'));
    expect(run.stdout.trimEnd().split('\n').at(-1)).toMatch(/^AT RISK: /);
  });

  it("given the demo's incident, when audited with --json, then the report validates and lists the digest", async () => {
    const { account, pinned } = incidentAccount();

    const run = await runCliOnSim(['audit', '--json'], [account]);

    expect(run.code).toBe(1);
    const report = JSON.parse(run.stdout);
    expect(validate(report), JSON.stringify(validate.errors)).toBe(true);
    expect(report.schema).toBe('ecr-digest-guard/audit-report@1');
    expect(report.verdict).toBe('at-risk');
    const app = report.targets[0].repositories.find((r: any) => r.repository === 'app');
    expect(app.untaggedInUse.map((d: any) => d.digest)).toEqual([pinned]);
    expect(app.untaggedInUse[0].consumers[0]).toMatchObject({ kind: 'ecs-service', cluster: 'prod', service: 'web' });
    expect(app.guardWouldDo[0]).toContain(protectiveTagFor(pinned, 'digest-guard'));
    expect(run.stderr).toBe('');
  });

  it('given the incident, when audited, then no write reached the account and the digest still has no tag', async () => {
    const { account, pinned } = incidentAccount();

    await runCliOnSim(['audit', '--json'], [account]);

    for (const operation of WRITES) expect(account.callCount('ecr', operation)).toBe(0);
    expect(account.ecr.imagesOf('app').find((i) => i.digest === pinned)?.tags).toEqual([]);
  });

  it('given every in-use digest tagged and no lifecycle policy, when audited, then it exits 0', async () => {
    const account = new SimulatedAccount();
    account.ecr.createRepository('api');
    account.ecr.pushImage('api', { tag: 'v1', manifest: dockerManifest({ seed: 'api-1' }).text });
    account.ecs.createCluster('prod');
    const td = account.ecs.registerTaskDefinition('api', [
      { name: 'api', image: `${account.ecr.registryHost}/api:v1` },
    ]);
    account.ecs.createService('prod', 'api', td, 1);

    const run = await runCliOnSim(['audit'], [account]);

    expect(run.code).toBe(0);
    expect(run.stdout.trimEnd().split('\n').at(-1)).toMatch(/^NOTHING AT RISK: /);
  });

  it('given an in-use image index whose children are untagged, when audited, then the children are listed', async () => {
    const account = new SimulatedAccount();
    account.ecr.createRepository('multi');
    const amd = ociManifest({ seed: 'amd64' });
    const arm = ociManifest({ seed: 'arm64' });
    for (const child of [amd, arm])
      account.ecr.pushImage('multi', { manifest: child.text, mediaType: child.mediaType });
    const index = ociIndex([
      { manifest: amd, platform: { architecture: 'amd64', os: 'linux' } },
      { manifest: arm, platform: { architecture: 'arm64', os: 'linux' } },
    ]);
    account.ecr.pushImage('multi', { tag: 'prod', manifest: index.text, mediaType: index.mediaType });
    account.ecs.createCluster('prod');
    const td = account.ecs.registerTaskDefinition('m', [
      { name: 'm', image: `${account.ecr.registryHost}/multi:prod` },
    ]);
    account.ecs.createService('prod', 'm', td, 1);

    const run = await runCliOnSim(['audit', '--json'], [account]);

    const report = JSON.parse(run.stdout);
    expect(validate(report), JSON.stringify(validate.errors)).toBe(true);
    const multi = report.targets[0].repositories[0];
    expect(multi.indexChildren).toEqual([{ index: index.digest, children: [amd.digest, arm.digest].sort() }]);
    expect(multi.untaggedInUse.map((d: any) => d.digest).sort()).toEqual([amd.digest, arm.digest].sort());
    expect(run.code).toBe(1);
  });

  it('given a lifecycle rule for any image, when audited, then the rule is reported as a risk to the in-use image', async () => {
    const account = new SimulatedAccount();
    account.ecr.createRepository('api');
    const digest = account.ecr.pushImage('api', { tag: 'v1', manifest: dockerManifest({ seed: 'api-1' }).text });
    account.ecr.setLifecyclePolicy(
      'api',
      JSON.stringify({
        rules: [
          {
            rulePriority: 1,
            selection: { tagStatus: 'any', countType: 'sinceImagePushed', countUnit: 'days', countNumber: 1 },
            action: { type: 'expire' },
          },
        ],
      }),
    );
    account.ecs.createCluster('prod');
    const td = account.ecs.registerTaskDefinition('api', [
      { name: 'api', image: `${account.ecr.registryHost}/api:v1` },
    ]);
    account.ecs.createService('prod', 'api', td, 1);
    account.clock.advanceDays(3);

    const run = await runCliOnSim(['audit', '--json'], [account]);

    expect(run.code).toBe(1);
    const api = JSON.parse(run.stdout).targets[0].repositories[0];
    expect(api.lifecycle.risks).toEqual([
      expect.objectContaining({ rulePriority: 1, action: 'expire', digests: [digest] }),
    ]);
    expect(api.lifecycle.fix.ruleJson).toContain('digest-guard-sha256-*');
  });

  it('given a replication rule for the repository, when audited, then the repository is listed as replicated', async () => {
    const { account } = incidentAccount();
    account.transport.addInterceptor(async (call, answer) =>
      call.operation === 'DescribeRegistry'
        ? {
            registryId: account.accountId,
            replicationConfiguration: {
              rules: [
                {
                  destinations: [{ region: 'us-east-1', registryId: account.accountId }],
                  repositoryFilters: [{ filter: 'ap', filterType: 'PREFIX_MATCH' }],
                },
              ],
            },
          }
        : answer(),
    );

    const run = await runCliOnSim(['audit', '--json'], [account]);

    const target = JSON.parse(run.stdout).targets[0];
    expect(target.replication.status).toBe('read');
    expect(target.repositories[0].replicatedTo).toEqual([`${account.accountId}/us-east-1`]);
  });

  it('given one region whose ECS fails every call, when audited, then it is reported and the exit is 1', async () => {
    const { account } = incidentAccount();
    const broken = new SimulatedAccount({ region: 'us-east-1' });
    broken.transport.injectFault({
      service: 'ecs',
      operation: 'ListClusters',
      code: 'AccessDeniedException',
      times: 99,
    });

    const run = await runCliOnSim(
      ['audit', '--region', 'eu-west-1', '--region', 'us-east-1', '--json'],
      [account, broken],
    );

    const report = JSON.parse(run.stdout);
    expect(validate(report), JSON.stringify(validate.errors)).toBe(true);
    expect(run.code).toBe(1);
    expect(report.targets.map((t: any) => [t.region, t.status])).toEqual([
      ['eu-west-1', 'read'],
      ['us-east-1', 'failed'],
    ]);
    expect(report.targets[1].error).toContain('AccessDenied');
  });

  it('given a throttled region and a clean one, when audited, then the unread region makes the exit 1', async () => {
    const clean = new SimulatedAccount();
    const throttled = new SimulatedAccount({ region: 'us-east-1' });
    throttled.transport.injectFault({ service: 'ecs', code: 'ThrottlingException', times: 999 });

    const run = await runCliOnSim(['audit', '--region', 'eu-west-1', '--region', 'us-east-1'], [clean, throttled], {
      maxAttempts: 1,
    });

    expect(run.code).toBe(1);
    expect(run.stdout).toContain('us-east-1: could not be read');
    expect(run.stdout.trimEnd().split('\n').at(-1)).toMatch(/^INCOMPLETE: /);
  });

  it('given the only region fails, when audited, then it could not run: exit 2', async () => {
    const broken = new SimulatedAccount();
    broken.transport.injectFault({ service: 'ecs', code: 'AccessDeniedException', times: 99 });

    const run = await runCliOnSim(['audit'], [broken]);

    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/could not read any region/);
  });

  it.each([
    [['audit', '--bogus'], /unknown option '--bogus'/],
    [['audit', '--accounts', '111122223333'], /--accounts needs --role-arn/],
    [['audit', '--role-arn', 'arn:aws:iam::{account}:role/Audit'], /\{account\} needs --accounts/],
    [['audit', '--region', 'eu-west-1', '--all-regions'], /either --region or --all-regions/],
    [['audit', '--role-arn', 'arn:aws:iam::{account}:role/A', '--accounts', '12'], /12 digits/],
    [['nonsense'], /unknown command 'nonsense'/],
  ])('given bad arguments %j, when run, then it exits 2 with one line saying what to do', async (argv, message) => {
    const run = await runCliOnSim(argv, [new SimulatedAccount()]);

    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(message);
    expect(run.stdout).toBe('');
  });

  it('given --help on audit, when run, then it prints the usage and exits 0', async () => {
    const run = await runCliOnSim(['audit', '--help'], [new SimulatedAccount()]);

    expect(run.code).toBe(0);
    expect(run.stdout).toContain('Usage: ecr-digest-guard audit');
    expect(run.stdout).toContain('--all-regions');
  });
});
