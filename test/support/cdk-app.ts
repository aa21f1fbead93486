/**
 * Shared setup for the infrastructure tests: an App with the same feature flags `cdk synth` uses
 * (cdk.json's context), one way to synthesize a guard, and helpers to read synthesized IAM statements.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import type { IRole } from 'aws-cdk-lib/aws-iam';
import { DigestGuard, type DigestGuardProps } from '../../lib/digest-guard';
import { ConfigError } from '../../lib/validation';

const CDK_JSON = path.join(__dirname, '..', '..', 'cdk.json');

/** An App configured like the CLI configures it from cdk.json. */
export function appLikeCli(extraContext: Record<string, unknown> = {}): App {
  const cdkJson = JSON.parse(fs.readFileSync(CDK_JSON, 'utf8')) as { context?: Record<string, unknown> };
  return new App({ context: { ...(cdkJson.context ?? {}), ...extraContext } });
}

/** The CDK's switch to skip bundling, for the many tests that read IAM and settings, not the code. */
export const SKIP_BUNDLING = { 'aws:cdk:bundling-stacks': [] } as const;

/** An account and region, for tests that need concrete ARNs. */
export const TEST_ENV = { account: '111122223333', region: 'eu-west-1' };

export interface SynthesizedGuard {
  readonly stack: Stack;
  readonly guard: DigestGuard;
  readonly template: Template;
  /** where the bundled code lands, with `bundle` */
  readonly outdir: string;
}

export interface SynthesizeOptions {
  /** Bundle the handlers (slow: esbuild per function) and record where the asset went. */
  readonly bundle: boolean;
  readonly stackId: string;
}

/**
 * One guard in a stack with `TEST_ENV`. Synthesize each variant once per file (in a `beforeAll`) and share it:
 * the template is the same for every test of that variant.
 */
export function synthesizeGuard(props: DigestGuardProps, options: SynthesizeOptions): SynthesizedGuard {
  const app = appLikeCli(options.bundle ? { 'aws:cdk:enable-asset-metadata': true } : SKIP_BUNDLING);
  const stack = new Stack(app, options.stackId, { env: TEST_ENV });
  const guard = new DigestGuard(stack, 'Guard', props);
  return { stack, guard, template: Template.fromStack(stack), outdir: app.outdir };
}

/** The logical id CloudFormation knows a construct's resource by. */
export function logicalIdOf(stack: Stack, construct: { node: { defaultChild?: unknown } } | undefined): string {
  if (!construct) throw new Error('construct missing');
  return stack.getLogicalId(construct.node.defaultChild as never);
}

export function ecrRepositoryArn(stack: Stack, name: string): unknown {
  return stack.resolve(stack.formatArn({ service: 'ecr', resource: 'repository', resourceName: name }));
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
    (policy) =>
      (policy as { Properties: { PolicyDocument: { Statement: Statement[] } } }).Properties.PolicyDocument.Statement,
  );
}

/** The statements of the policies attached to one role (its default policy, in this app). */
export function roleStatements(template: Template, stack: Stack, role: IRole | undefined): Statement[] {
  if (!role) throw new Error('no role');
  const roleRef = { Ref: stack.getLogicalId(role.node.defaultChild as never) };
  return Object.values(template.findResources('AWS::IAM::Policy'))
    .map(
      (policy) =>
        (policy as { Properties: { Roles: unknown[]; PolicyDocument: { Statement: Statement[] } } }).Properties,
    )
    .filter((properties) => properties.Roles.some((r) => JSON.stringify(r) === JSON.stringify(roleRef)))
    .flatMap((properties) => properties.PolicyDocument.Statement);
}

export function actionsOf(statement: Statement): string[] {
  return Array.isArray(statement.Action) ? statement.Action : [statement.Action];
}

export function resourcesOf(statement: Statement): unknown[] {
  return Array.isArray(statement.Resource) ? statement.Resource : [statement.Resource];
}

/**
 * A construct built from `props` in a fresh stack, run when called: refused props throw before anything is
 * bundled, accepted ones need no code either. An alert address is added unless the props name recipients.
 */
export function buildGuard(props: DigestGuardProps): () => DigestGuard {
  const stack = (): Stack => new Stack(appLikeCli(SKIP_BUNDLING), 'Invalid');
  return () => new DigestGuard(stack(), 'Guard', { alertEmails: ['ops@example.com'], ...props });
}

/** Every problem the construct reports for these props (with an alert address unless they name recipients). */
export function problemsOf(props: DigestGuardProps): readonly string[] {
  try {
    buildGuard(props)();
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

/**
 * A synthesized value with `{Ref: AWS::Partition}` and `Fn::Join` resolved as CloudFormation would in the `aws`
 * partition, for handing a synthesized policy to an emulator; any other intrinsic throws.
 */
export function resolveIntrinsics(value: unknown, pseudo: Readonly<Record<string, string>> = {}): unknown {
  const resolve = (v: unknown): unknown => resolveIntrinsics(v, pseudo);
  if (Array.isArray(value)) return value.map(resolve);
  if (value === null || typeof value !== 'object') return value;
  const object = value as Record<string, unknown>;
  if (object.Ref === 'AWS::Partition') return 'aws';
  if (typeof object.Ref === 'string' && pseudo[object.Ref] !== undefined) return pseudo[object.Ref];
  if ('Fn::Join' in object) {
    const [separator, parts] = object['Fn::Join'] as [string, unknown[]];
    return parts.map((part) => String(resolve(part))).join(separator);
  }
  const keys = Object.keys(object);
  if (keys.some((key) => key.startsWith('Fn::') || key === 'Ref')) throw new Error(`unresolved ${keys.join()}`);
  return Object.fromEntries(keys.map((key) => [key, resolve(object[key])]));
}
