/**
 * The in-use index: a DynamoDB table of who uses which image digest, kept by the reconcile's list (and, in
 * later work, a watch of ECS events). Keys and the `byWorkload` index come from `lambda/core/in-use-index`,
 * so the table, the adapter and the simulated account cannot drift apart.
 *
 * - On demand: the list writes in bursts proportional to changes, then nothing for hours.
 * - Point-in-time recovery: the index is rebuilt by the next complete list anyway, but a bad write (a bug,
 *   a hand edit) can be undone to the minute without waiting for it.
 * - Encrypted with the AWS managed key (`aws/dynamodb`) rather than the guard's topic key: that key exists
 *   only when the construct creates the topic, its policy would have to admit DynamoDB, and the table holds
 *   digests and workload names, no secrets; key use still shows in CloudTrail, unlike the AWS owned key.
 * - Retained when the stack is deleted, like the topic key and the log groups: it is cheap, and a reinstall
 *   then starts with the last known picture instead of nothing.
 * See: https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/EncryptionAtRest.html
 * See: https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/PointInTimeRecovery.html
 */
import { RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type { Construct } from 'constructs';
import { IN_USE_INDEX_KEYS } from '../lambda/core/in-use-index/keys';

/** The table, created in `scope` with the id `InUseIndex`. */
export function createInUseIndex(scope: Construct): dynamodb.Table {
  const { partitionKey, sortKey, byWorkload } = IN_USE_INDEX_KEYS;
  const table = new dynamodb.Table(scope, 'InUseIndex', {
    partitionKey: { name: partitionKey, type: dynamodb.AttributeType.STRING },
    sortKey: { name: sortKey, type: dynamodb.AttributeType.STRING },
    billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
    pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
    encryption: dynamodb.TableEncryption.AWS_MANAGED,
    removalPolicy: RemovalPolicy.RETAIN,
  });
  // Sparse and KEYS_ONLY: only image-user items carry `workload`, and a list needs only their keys and lastSeen.
  table.addGlobalSecondaryIndex({
    indexName: byWorkload.indexName,
    partitionKey: { name: byWorkload.partitionKey, type: dynamodb.AttributeType.STRING },
    sortKey: { name: byWorkload.sortKey, type: dynamodb.AttributeType.NUMBER },
    projectionType: dynamodb.ProjectionType.KEYS_ONLY,
  });
  return table;
}
