/**
 * One simulated AWS account and region: the ECR registry, ECS, Lambda, SNS and DynamoDB behind one wire that any
 * AWS SDK v3 client can use (`new ECRClient(account.clientConfig())`). ECS and Lambda resolve image
 * references against this account's registry, and everything shares one clock.
 */
import { SimDynamoDb } from './dynamodb';
import type { EcrImageActionEvent } from './events';
import { SimEcr } from './ecr';
import { SimEcs, type SimEcsOptions } from './ecs';
import { SimLambda } from './lambda';
import { SimSns } from './sns';
import { type EcsThrottle, type EcsThrottleOptions, createEcsThrottle } from './throttling';
import { SimTransport } from './transport';

export interface SimulatedAccountOptions {
  /** default `111122223333` */
  readonly accountId?: string;
  /** default `eu-west-1` */
  readonly region?: string;
  /** real delay added to every call, in milliseconds (default 0) */
  readonly latencyMs?: number;
  /** where the account's clock starts (default: the wall clock); `clock.advance()` moves it */
  readonly startAt?: Date;
  /** a clock shared with other accounts (a simulated organization); `startAt` is then ignored */
  readonly clock?: SimClock;
  /** registries of other accounts or regions ECS tasks here may pull from (a simulated organization) */
  readonly otherRegistries?: SimEcsOptions['otherRegistries'];
  /** throttle ECS calls with the documented token buckets (`true` for the defaults); default off */
  readonly ecsThrottling?: boolean | EcsThrottleOptions;
}

/** The account's clock: the wall clock shifted by what a test advanced it by. */
export class SimClock {
  private offsetMs: number;

  constructor(startAt?: Date) {
    this.offsetMs = startAt ? startAt.getTime() - Date.now() : 0;
  }

  now(): Date {
    return new Date(Date.now() + this.offsetMs);
  }

  advance(ms: number): void {
    this.offsetMs += ms;
  }

  advanceDays(days: number): void {
    this.advance(days * 86_400_000);
  }
}

export class SimulatedAccount {
  readonly accountId: string;
  readonly region: string;
  readonly clock: SimClock;
  readonly transport: SimTransport;
  readonly ecr: SimEcr;
  readonly ecs: SimEcs;
  readonly lambda: SimLambda;
  /** the ECS token buckets, when `ecsThrottling` is on */
  readonly ecsThrottle?: EcsThrottle;
  readonly sns: SimSns;
  /** the in-use index's table lives here (created by the test or the bench that needs it) */
  readonly dynamodb: SimDynamoDb;

  constructor(options: SimulatedAccountOptions = {}) {
    this.accountId = options.accountId ?? '111122223333';
    this.region = options.region ?? 'eu-west-1';
    if (!/^\d{12}$/.test(this.accountId)) throw new Error(`accountId must be 12 digits, got "${this.accountId}"`);
    this.clock = options.clock ?? new SimClock(options.startAt);
    this.transport = new SimTransport({ latencyMs: options.latencyMs ?? 0 });
    this.ecr = new SimEcr({ accountId: this.accountId, region: this.region, now: () => this.clock.now() });
    this.ecs = new SimEcs({
      accountId: this.accountId,
      region: this.region,
      ecr: this.ecr,
      now: () => this.clock.now(),
      ...(options.otherRegistries ? { otherRegistries: options.otherRegistries } : {}),
    });
    this.lambda = new SimLambda({
      accountId: this.accountId,
      region: this.region,
      ecr: this.ecr,
      now: () => this.clock.now(),
    });
    this.sns = new SimSns({ accountId: this.accountId, region: this.region });
    this.dynamodb = new SimDynamoDb({ accountId: this.accountId, region: this.region });
    for (const service of [this.ecr, this.ecs, this.lambda, this.sns, this.dynamodb]) this.transport.register(service);
    if (options.ecsThrottling) {
      this.ecsThrottle = createEcsThrottle(options.ecsThrottling === true ? {} : options.ecsThrottling);
      this.transport.beforeCall = this.ecsThrottle.check;
    }
  }

  /** The `ECR Image Action` events the registry emitted, in order (what EventBridge would route). */
  get events(): readonly EcrImageActionEvent[] {
    return this.ecr.events;
  }

  /**
   * Configuration for any AWS SDK v3 client: requests go to the simulated account, never to AWS.
   * `maxAttempts` defaults to the SDK's own (3); pass 1 to see the first error unretried.
   */
  clientConfig(options: { maxAttempts?: number } = {}) {
    return {
      region: this.region,
      credentials: { accessKeyId: 'AKIASIMULATEDACCOUNT', secretAccessKey: 'simulated-secret-access-key' },
      requestHandler: this.transport.requestHandler,
      ...(options.maxAttempts !== undefined ? { maxAttempts: options.maxAttempts } : {}),
    };
  }

  /** How many calls reached the account (answered or failed), by service and operation. */
  callCount(service?: string, operation?: string): number {
    return this.transport.callCount(service, operation);
  }
}
