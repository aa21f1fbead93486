/**
 * ECS API throttling as AWS documents it: token buckets per account and region, one bucket per API
 * action *category* (all actions of a category share it), each with a maximum capacity (burst) and a
 * refill rate (sustained). A request takes one token; an empty bucket answers `ThrottlingException`
 * "Rate exceeded". Refill is continuous: "the previously empty bucket reaches its maximum capacity
 * after 2.5 seconds" (capacity 50, refill 20/s).
 * See: https://docs.aws.amazon.com/AmazonECS/latest/APIReference/request-throttling.html
 *
 * One `EcsThrottle` stands for one account and region: every client of the simulated account shares it,
 * as deploy tools, consoles and the guard share the real buckets. Actions the page does not list are not
 * throttled by this model.
 */
import { SimAwsError } from './transport';

export interface BucketSpec {
  /** bucket maximum capacity (burst rate), tokens */
  readonly capacity: number;
  /** bucket refill rate (sustained rate), tokens per second */
  readonly refillPerSecond: number;
}

/**
 * The documented categories, with their actions, capacity and refill rate, as listed in the table
 * "Request Token Bucket Sizes and Refill Rates" of the page above (the same for all Regions).
 */
export const ECS_THROTTLING_CATEGORIES: Readonly<Record<string, BucketSpec & { readonly actions: readonly string[] }>> =
  {
    'cluster-modify': {
      capacity: 20,
      refillPerSecond: 1,
      actions: [
        'CreateCluster',
        'DeleteCluster',
        'PutClusterCapacityProviders',
        'UpdateCluster',
        'UpdateClusterSettings',
      ],
    },
    'cluster-read': { capacity: 50, refillPerSecond: 20, actions: ['DescribeClusters', 'ListClusters'] },
    'task-definition-modify': {
      capacity: 20,
      refillPerSecond: 1,
      actions: ['DeregisterTaskDefinition', 'RegisterTaskDefinition'],
    },
    'task-definition-read': {
      capacity: 50,
      refillPerSecond: 20,
      actions: ['DescribeTaskDefinition', 'ListTaskDefinitions', 'ListTaskDefinitionFamilies'],
    },
    'task-definition-deletion': { capacity: 5, refillPerSecond: 1, actions: ['DeleteTaskDefinitions'] },
    'capacity-provider-modify': {
      capacity: 10,
      refillPerSecond: 1,
      actions: ['CreateCapacityProvider', 'DeleteCapacityProvider', 'UpdateCapacityProvider'],
    },
    'capacity-provider-read': { capacity: 50, refillPerSecond: 20, actions: ['DescribeCapacityProviders'] },
    'tag-modify': { capacity: 20, refillPerSecond: 10, actions: ['TagResource', 'UntagResource'] },
    'tag-read': { capacity: 50, refillPerSecond: 20, actions: ['ListTagsForResource'] },
    'setting-modify': {
      capacity: 10,
      refillPerSecond: 1,
      actions: ['DeleteAccountSetting', 'PutAccountSetting', 'PutAccountSettingDefault'],
    },
    'setting-read': { capacity: 50, refillPerSecond: 20, actions: ['ListAccountSettings'] },
    'cluster-resource-modify': {
      capacity: 100,
      refillPerSecond: 40,
      actions: [
        'DeleteAttributes',
        'DeregisterContainerInstance',
        'ExecuteCommand',
        'PutAttributes',
        'RunTask',
        'StartTask',
        'StopTask',
        'UpdateContainerAgent',
        'UpdateContainerInstancesStates',
      ],
    },
    'cluster-resource-read': {
      capacity: 100,
      refillPerSecond: 20,
      actions: ['DescribeContainerInstances', 'DescribeTasks', 'ListAttributes', 'ListContainerInstances', 'ListTasks'],
    },
    'agent-modify': {
      capacity: 200,
      refillPerSecond: 120,
      actions: [
        'RegisterContainerInstance',
        'SubmitAttachmentStateChanges',
        'SubmitContainerStateChange',
        'SubmitTaskStateChange',
      ],
    },
    'service-modify': {
      capacity: 50,
      refillPerSecond: 5,
      actions: ['CreateService', 'DeleteService', 'UpdateService'],
    },
    'service-read': { capacity: 100, refillPerSecond: 20, actions: ['DescribeServices', 'ListServices'] },
    'service-deployment': {
      capacity: 50,
      refillPerSecond: 20,
      actions: ['DescribeServiceDeployments', 'ListServiceDeployments'],
    },
    'service-revision': { capacity: 50, refillPerSecond: 20, actions: ['DescribeServiceRevisions'] },
    'task-protection': { capacity: 200, refillPerSecond: 80, actions: ['UpdateTaskProtection', 'GetTaskProtection'] },
    'cluster-service-resource-read': { capacity: 10, refillPerSecond: 1, actions: ['ListServicesByNamespace'] },
  };

export interface EcsThrottleOptions {
  /** milliseconds; inject a fake clock for deterministic tests (default `Date.now`) */
  readonly now?: () => number;
  /** override a category's capacity or refill rate, e.g. to model an account that other tools already load */
  readonly overrides?: Readonly<Record<string, Partial<BucketSpec>>>;
  /** which simulated service this throttles (default `ecs`) */
  readonly service?: string;
}

interface Bucket {
  readonly spec: BucketSpec;
  tokens: number;
  updatedAtMs: number;
}

export interface EcsThrottle {
  /** Use as `transport.beforeCall = throttle.check`: takes one token or throws `ThrottlingException`. */
  readonly check: (service: string, operation: string) => void;
  /** Tokens left in an action's bucket now (after refill), or undefined for an unthrottled action. */
  tokensFor(operation: string): number | undefined;
  /** The category an action belongs to, or undefined when the page does not list it. */
  categoryOf(operation: string): string | undefined;
  /** How many calls were refused, per category. */
  readonly throttled: ReadonlyMap<string, number>;
}

export function createEcsThrottle(options: EcsThrottleOptions = {}): EcsThrottle {
  const now = options.now ?? Date.now;
  const throttledService = options.service ?? 'ecs';
  const categoryByAction = new Map<string, string>();
  const buckets = new Map<string, Bucket>();
  const throttled = new Map<string, number>();
  const startedAt = now();
  for (const [category, spec] of Object.entries(ECS_THROTTLING_CATEGORIES)) {
    for (const action of spec.actions) categoryByAction.set(action, category);
    const merged: BucketSpec = {
      capacity: spec.capacity,
      refillPerSecond: spec.refillPerSecond,
      ...options.overrides?.[category],
    };
    // Buckets start full.
    buckets.set(category, { spec: merged, tokens: merged.capacity, updatedAtMs: startedAt });
  }

  const refill = (bucket: Bucket): void => {
    const at = now();
    const elapsedSeconds = Math.max(0, at - bucket.updatedAtMs) / 1000;
    bucket.tokens = Math.min(bucket.spec.capacity, bucket.tokens + elapsedSeconds * bucket.spec.refillPerSecond);
    bucket.updatedAtMs = at;
  };

  return {
    check: (service: string, operation: string): void => {
      if (service !== throttledService) return;
      const category = categoryByAction.get(operation);
      if (!category) return;
      const bucket = buckets.get(category)!;
      refill(bucket);
      if (bucket.tokens < 1) {
        throttled.set(category, (throttled.get(category) ?? 0) + 1);
        // The documented error: "ThrottlingException … Rate exceeded" (HTTP 400). The ECS model declares no
        // ThrottlingException shape, so the SDK raises ECSServiceException named ThrottlingException, which its
        // retry strategy classifies as a throttling error.
        throw new SimAwsError('ThrottlingException', 'Rate exceeded', 400);
      }
      bucket.tokens -= 1;
    },
    tokensFor(operation: string): number | undefined {
      const category = categoryByAction.get(operation);
      if (!category) return undefined;
      const bucket = buckets.get(category)!;
      refill(bucket);
      return bucket.tokens;
    },
    categoryOf(operation: string): string | undefined {
      return categoryByAction.get(operation);
    },
    throttled,
  };
}
