/**
 * The in-use index table the construct creates: on demand, point-in-time recovery, encrypted with the AWS
 * managed key, retained when the stack is deleted, keyed as the adapter writes it; the reconcile (the list)
 * may call only what it calls, on that table and its byWorkload index; the stack outputs its name.
 * See: https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-resource-dynamodb-table.html
 */
import { Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { inUseIndexCreateTableInput } from '../../lambda/adapters/in-use-index';
import { DigestGuardStack } from '../../lib/digest-guard-stack';
import {
  actionsOf,
  appLikeCli,
  logicalIdOf,
  resourcesOf,
  roleStatements,
  SKIP_BUNDLING,
  type SynthesizedGuard,
  synthesizeGuard,
} from '../support/cdk-app';

describe('the in-use index table', () => {
  let synthesized: SynthesizedGuard;
  let tableId: string;
  beforeAll(() => {
    synthesized = synthesizeGuard(
      { alertEmails: ['ops@example.com'], pushReadsIndex: true },
      { bundle: false, stackId: 'Index' },
    );
    tableId = logicalIdOf(synthesized.stack, synthesized.guard.inUseIndex);
  });

  it('given the default guard, then the table is on demand, recoverable to a point in time, encrypted and retained', () => {
    const { template } = synthesized;
    template.hasResource('AWS::DynamoDB::Table', {
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
      Properties: {
        BillingMode: 'PAY_PER_REQUEST',
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        SSESpecification: { SSEEnabled: true },
      },
    });
    expect(template.findResources('AWS::DynamoDB::Table')[tableId]).toBeDefined();
  });

  it('given the table, then its keys and byWorkload index are the ones the adapter and the simulation use', () => {
    const properties = synthesized.template.findResources('AWS::DynamoDB::Table')[tableId]!.Properties;
    const expected = inUseIndexCreateTableInput('any');
    expect(properties.KeySchema).toEqual(expected.KeySchema);
    expect(new Set(properties.AttributeDefinitions)).toEqual(new Set(expected.AttributeDefinitions));
    expect(properties.GlobalSecondaryIndexes).toEqual(
      expected.GlobalSecondaryIndexes!.map(({ IndexName, KeySchema, Projection }) => ({
        IndexName,
        KeySchema,
        Projection,
      })),
    );
  });

  it('given the reconcile role, then it may put, delete and update items, query only byWorkload and get only its registry item and the workload status items', () => {
    const { template, stack, guard } = synthesized;
    const statements = roleStatements(template, stack, guard.reconcileFunction?.role).filter((s) =>
      actionsOf(s).some((a) => a.startsWith('dynamodb:')),
    );
    const tableArn = { 'Fn::GetAtt': [tableId, 'Arn'] };
    expect(statements.map((s) => [actionsOf(s).sort(), resourcesOf(s)])).toEqual([
      [['dynamodb:DeleteItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'], [tableArn]],
      [['dynamodb:Query'], [{ 'Fn::Join': ['', [tableArn, '/index/byWorkload']] }]],
      [['dynamodb:GetItem'], [tableArn]],
      [['dynamodb:GetItem'], [tableArn]],
    ]);
    // The replicated-deletions memory is the only item it reads: `pk = registry#<account>#<region>`.
    expect(statements[2]!.Condition).toEqual({
      'ForAllValues:StringEquals': {
        'dynamodb:LeadingKeys': [`registry#${stack.account}#${stack.region}`],
      },
    });
    // The catch-up reads each workload's status item, `pk = workload#<account>#<region>`, and no image entry.
    expect(statements[3]!.Condition).toEqual({
      'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['workload#*'] },
    });
  });

  it('given the push role with pushReadsIndex, then it may only read the index: GetItem and Query on the table', () => {
    const { template, stack, guard } = synthesized;
    const statements = roleStatements(template, stack, guard.function.role).filter((st) =>
      actionsOf(st).some((a) => a.startsWith('dynamodb:')),
    );
    expect(statements.flatMap(actionsOf).sort()).toEqual(['dynamodb:GetItem', 'dynamodb:Query']);
    for (const statement of statements) expect(statement.Resource).toEqual({ 'Fn::GetAtt': [tableId, 'Arn'] });
  });

  it('given the reconcile function, then it is told the table name', () => {
    const { template, stack, guard } = synthesized;
    const fn = template.findResources('AWS::Lambda::Function')[logicalIdOf(stack, guard.reconcileFunction)];
    expect(fn?.Properties.Environment.Variables.IN_USE_INDEX_TABLE_NAME).toEqual({ Ref: tableId });
  });

  it('given the stack, then InUseIndexTableName is an output', () => {
    const stack = new DigestGuardStack(appLikeCli(SKIP_BUNDLING), 'EcrDigestGuard', {
      config: { alertEmails: ['ops@example.com'], repositories: [], dryRun: false },
    });
    const outputs = Template.fromStack(stack).toJSON().Outputs;
    expect(outputs.InUseIndexTableName).toMatchObject({
      Value: { Ref: logicalIdOf(stack, stack.guard.inUseIndex) },
      Description: expect.any(String),
    });
  });
});
