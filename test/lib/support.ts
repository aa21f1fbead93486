/**
 * Shared setup for the infrastructure tests: an App with the same feature flags `cdk synth` uses
 * (cdk.json's context), and helpers to read synthesized IAM statements.
 */
import * as fs from 'fs';
import * as path from 'path';
import { App, type Stack } from 'aws-cdk-lib';
import type { Template } from 'aws-cdk-lib/assertions';
import type { IRole } from 'aws-cdk-lib/aws-iam';

const CDK_JSON = path.join(__dirname, '..', '..', 'cdk.json');

/** An App configured like the CLI configures it from cdk.json. */
export function appLikeCli(extraContext: Record<string, unknown> = {}): App {
  const cdkJson = JSON.parse(fs.readFileSync(CDK_JSON, 'utf8')) as { context?: Record<string, unknown> };
  return new App({ context: { ...(cdkJson.context ?? {}), ...extraContext } });
}

export interface Statement {
  readonly Sid?: string;
  readonly Effect: string;
  readonly Action: string | string[];
  readonly Resource: unknown;
  readonly Condition?: unknown;
}

/** Every statement of every `AWS::IAM::Policy` in the template. */
export function iamPolicyStatements(template: Template): Statement[] {
  return Object.values(template.findResources('AWS::IAM::Policy')).flatMap(
    (policy) => (policy as { Properties: { PolicyDocument: { Statement: Statement[] } } }).Properties.PolicyDocument.Statement,
  );
}

/** The statements of the policies attached to one role (its default policy, in this app). */
export function roleStatements(template: Template, stack: Stack, role: IRole | undefined): Statement[] {
  if (!role) throw new Error('no role');
  const roleRef = { Ref: stack.getLogicalId(role.node.defaultChild as never) };
  return Object.values(template.findResources('AWS::IAM::Policy'))
    .map((policy) => (policy as { Properties: { Roles: unknown[]; PolicyDocument: { Statement: Statement[] } } }).Properties)
    .filter((properties) => properties.Roles.some((r) => JSON.stringify(r) === JSON.stringify(roleRef)))
    .flatMap((properties) => properties.PolicyDocument.Statement);
}

export function actionsOf(statement: Statement): string[] {
  return Array.isArray(statement.Action) ? statement.Action : [statement.Action];
}

export function resourcesOf(statement: Statement): unknown[] {
  return Array.isArray(statement.Resource) ? statement.Resource : [statement.Resource];
}
