/**
 * The workload stack's forwarding, as synthesized: one template for every workload account and region (so a StackSet
 * can deploy it), with the global IAM roles only in the account's home region (a CloudFormation condition on
 * `AWS::Region`) and, in every region, rules on the default bus that forward to the guard's bus through the forwarder
 * role, except in the guard's own account and region, whose events reach the watch directly.
 * Sender side of cross-account and cross-region delivery: a rule on the sender's bus with the receiving bus's ARN as
 * target and a role in the sender's account allowed `events:PutEvents` on that bus.
 * See: https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-cross-account.html
 * See: https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-cross-region.html
 */
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import type { WorkloadDeployment } from '../../lib/config';
import { buildForwardingEventPatterns } from '../../lib/event-pattern';
import { DigestGuardWorkloadStack } from '../../lib/workload-stack';
import { resolveIntrinsics } from '../support/cdk-app';

const GUARD = '111122223333';
const WORKLOAD = '444455556666';
const BUS_ARN = `arn:aws:events:eu-west-1:${GUARD}:event-bus/ecr-digest-guard-eu-west-1`;

function templateOf(regions: string[]): any {
  const deployment: WorkloadDeployment = {
    guardAccount: GUARD,
    guardRegion: 'eu-west-1',
    accounts: [WORKLOAD],
    regions,
  };
  return Template.fromStack(new DigestGuardWorkloadStack(new App(), 'Workload', { deployment })).toJSON();
}

const ofType = (template: any, type: string): [string, any][] =>
  Object.entries(template.Resources).filter(([, r]: [string, any]) => r.Type === type) as [string, any][];

/** CloudFormation's condition functions, with the pseudo parameters of one deployment. */
function holds(template: any, name: string, where: { account: string; region: string }): boolean {
  const value = (node: any): any => {
    if (typeof node === 'string') return node;
    if (node.Ref === 'AWS::Region') return where.region;
    if (node.Ref === 'AWS::AccountId') return where.account;
    if (node.Condition) return holds(template, node.Condition, where);
    if (node['Fn::Equals']) return value(node['Fn::Equals'][0]) === value(node['Fn::Equals'][1]);
    if (node['Fn::Not']) return !value(node['Fn::Not'][0]);
    if (node['Fn::And']) return node['Fn::And'].every(value);
    throw new Error(`condition function not modelled: ${JSON.stringify(node)}`);
  };
  return value(template.Conditions[name]);
}

/** The logical ids CloudFormation creates in one (account, region). */
function createdIn(template: any, where: { account: string; region: string }): string[] {
  return Object.entries(template.Resources)
    .filter(([, r]: [string, any]) => r.Condition === undefined || holds(template, r.Condition, where))
    .map(([id, r]: [string, any]) => `${r.Type} ${id}`)
    .sort();
}

const roles = (ids: string[]) => ids.filter((id) => id.startsWith('AWS::IAM::'));
const rules = (ids: string[]) => ids.filter((id) => id.startsWith('AWS::Events::Rule'));

describe('the workload stack forwards to the guard bus', () => {
  // Synthesized once per variant in a hook (the first synth of a file loads aws-cdk-lib: slow on a busy machine).
  const templates: Record<string, any> = {};
  beforeAll(() => {
    for (const regions of [
      ['us-east-1', 'eu-west-1'],
      ['us-east-1', 'ap-south-1'],
      ['eu-west-1', 'us-east-1'],
      ['eu-west-1'],
    ]) {
      templates[regions.join()] = templateOf(regions);
    }
  });
  const variant = (regions: string[]) => templates[regions.join()];

  it('given the guard region among the workload regions, when deployed in each, then the roles exist only there and rules everywhere', () => {
    const template = variant(['us-east-1', 'eu-west-1']);

    const home = createdIn(template, { account: WORKLOAD, region: 'eu-west-1' });
    const other = createdIn(template, { account: WORKLOAD, region: 'us-east-1' });

    expect(roles(home).length).toBeGreaterThanOrEqual(3); // reader, its policy, forwarder
    expect(roles(other)).toEqual([]);
    expect(rules(home)).toHaveLength(3);
    expect(rules(other)).toHaveLength(3);
  });

  it('given the guard region is not a workload region, when deployed, then the first workload region is home', () => {
    const template = variant(['us-east-1', 'ap-south-1']);

    expect(roles(createdIn(template, { account: WORKLOAD, region: 'us-east-1' })).length).toBeGreaterThanOrEqual(3);
    expect(roles(createdIn(template, { account: WORKLOAD, region: 'ap-south-1' }))).toEqual([]);
  });

  it("given the guard's own account, when deployed in the guard region, then nothing forwards (the watch sees it directly)", () => {
    const template = variant(['eu-west-1', 'us-east-1']);

    expect(rules(createdIn(template, { account: GUARD, region: 'eu-west-1' }))).toEqual([]);
    expect(rules(createdIn(template, { account: GUARD, region: 'us-east-1' }))).toHaveLength(3);
  });

  it("given the forwarder role, when synthesized, then only this account's EventBridge rules may assume it and it may only PutEvents on the guard bus", () => {
    const template = variant(['eu-west-1']);
    const forwarder = ofType(template, 'AWS::IAM::Role').find(([, r]) =>
      String(r.Properties.RoleName).includes('forwarder'),
    )![1];

    expect(forwarder.Properties.RoleName).toBe('ecr-digest-guard-forwarder-eu-west-1');
    // Confused-deputy prevention: "For EventBridge event bus rule targets, the value of aws:SourceArn must be the
    // rule ARN" (https://docs.aws.amazon.com/eventbridge/latest/userguide/cross-service-confused-deputy-prevention.html).
    expect(
      resolveIntrinsics(forwarder.Properties.AssumeRolePolicyDocument.Statement, { 'AWS::AccountId': WORKLOAD }),
    ).toEqual([
      {
        Effect: 'Allow',
        Action: 'sts:AssumeRole',
        Principal: { Service: 'events.amazonaws.com' },
        Condition: {
          StringEquals: { 'aws:SourceAccount': WORKLOAD },
          ArnLike: { 'aws:SourceArn': `arn:aws:events:*:${WORKLOAD}:rule/*` },
        },
      },
    ]);
    const statements = forwarder.Properties.Policies.flatMap((p: any) => p.PolicyDocument.Statement);
    expect(resolveIntrinsics(statements)).toEqual([{ Effect: 'Allow', Action: 'events:PutEvents', Resource: BUS_ARN }]);
    expect(ofType(template, 'AWS::IAM::Policy').flatMap(([, p]) => JSON.stringify(p))).not.toContain('events:');
  });

  it('given the rules, when synthesized, then each has a forwarding pattern, the guard bus as target and the forwarder role by ARN', () => {
    const template = variant(['eu-west-1', 'us-east-1']);
    const synthesized = ofType(template, 'AWS::Events::Rule').map(([, r]) => r.Properties);

    expect(synthesized.map((r) => r.EventPattern)).toEqual(buildForwardingEventPatterns().map((p) => p.pattern));
    for (const rule of synthesized) {
      expect(rule.EventBusName).toBeUndefined();
      expect(rule.State).toBe('ENABLED');
      expect(rule.Targets).toHaveLength(1);
      expect(resolveIntrinsics(rule.Targets[0].Arn)).toBe(BUS_ARN);
      // By ARN, not Ref: in a region without the role the rule still names the one of the home region.
      expect(JSON.stringify(rule.Targets[0].RoleArn)).not.toContain('"Ref":"Forwarder');
      expect(JSON.stringify(rule.Targets[0].RoleArn)).toContain(':role/ecr-digest-guard-forwarder-eu-west-1');
    }
  });
});
