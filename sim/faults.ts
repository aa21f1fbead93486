/**
 * Faults for the simulated account, as the SDK would meet them on the wire: throttling, 5xx, timeouts
 * (the request lost before the service acted, or the answer lost after it acted), and partial failures
 * inside one batch call. Built on `SimTransport.injectFault` (errors the service answers) and interceptors
 * (what the HTTP layer does), so every fault goes through the SDK's own error classes and retry strategy.
 *
 * How the SDK classifies them (smithy `service-error-classification`): `ThrottlingException` is a
 * throttling error, HTTP 500/502/503/504 a server error, a rejected request named `TimeoutError` (what
 * the node HTTP handler raises when `requestTimeout` passes) a transient error. All three are retried.
 */
import type { SimCallContext, SimFault, SimTransport } from './transport';

export type FaultKind =
  /** `ThrottlingException` "Rate exceeded" (HTTP 400): ECS and ECR throttling */
  | 'throttle'
  /** the service's own 5xx: `ServerException` (ECR, ECS), `ServiceException` (Lambda), `InternalFailure`/`InternalError` (SNS) */
  | 'server-error'
  /** the request never reached the service: the HTTP layer gave up (`TimeoutError`) */
  | 'timeout-before'
  /** the service acted, the answer never came back within the SDK's timeout (`TimeoutError`) */
  | 'timeout-after';

export interface FaultSpec {
  readonly kind: FaultKind;
  readonly service: string;
  /** every operation of the service when left out */
  readonly operation?: string;
  /** how many matching calls fail (each retry counts as a call) */
  readonly times: number;
  readonly match?: (input: any) => boolean;
}

/** The 5xx code each simulated service answers with (as its SDK model names it). */
const SERVER_ERROR_CODES: Readonly<Record<string, string>> = {
  ecr: 'ServerException',
  ecs: 'ServerException',
  lambda: 'ServiceException',
  sns: 'InternalError',
};

/** What the node HTTP handler rejects with when `requestTimeout` passes without an answer. */
export function timeoutError(operation: string): Error {
  const error = new Error(`simulated account: ${operation} got no answer within the SDK's request timeout`);
  error.name = 'TimeoutError';
  return error;
}

export interface FaultInjector {
  /** Adds one fault; faults are consumed first-in first-out among those that match a call. */
  inject(spec: FaultSpec): void;
  /** How many faulty calls are still to come (all faults added and not yet used up). */
  pending(): number;
  /** Stops the interceptor this injector added (injected AWS errors already queued still apply). */
  dispose(): void;
}

/**
 * One place to inject every kind of fault into a transport. AWS errors go through `injectFault`; timeouts
 * through one interceptor that either rejects before the service acts or after it acted.
 */
export function faultInjector(transport: SimTransport): FaultInjector {
  const timeouts: { spec: FaultSpec; left: number }[] = [];
  const awsFaults: SimFault[] = [];
  const matches = (spec: FaultSpec, call: SimCallContext) =>
    spec.service === call.service &&
    (!spec.operation || spec.operation === call.operation) &&
    (!spec.match || spec.match(call.input));
  const remove = transport.addInterceptor(async (call, answer) => {
    const timeout = timeouts.find((t) => t.left > 0 && matches(t.spec, call));
    if (!timeout) return answer();
    timeout.left -= 1;
    if (timeout.spec.kind === 'timeout-before') throw timeoutError(call.operation);
    await answer();
    throw timeoutError(call.operation);
  });
  return {
    inject(spec) {
      if (!Number.isInteger(spec.times) || spec.times < 1)
        throw new RangeError(`fault times must be a positive integer, got ${spec.times}`);
      if (spec.kind === 'timeout-before' || spec.kind === 'timeout-after') {
        timeouts.push({ spec, left: spec.times });
        return;
      }
      const fault: SimFault =
        spec.kind === 'throttle'
          ? { service: spec.service, code: 'ThrottlingException', status: 400, times: spec.times }
          : {
              service: spec.service,
              code: SERVER_ERROR_CODES[spec.service] ?? 'InternalFailure',
              status: 500,
              times: spec.times,
            };
      const full: SimFault = {
        ...fault,
        ...(spec.operation ? { operation: spec.operation } : {}),
        ...(spec.match ? { match: spec.match } : {}),
      };
      awsFaults.push(full);
      transport.injectFault(full);
    },
    pending() {
      return timeouts.reduce((n, t) => n + t.left, 0) + awsFaults.reduce((n, f) => n + f.times, 0);
    },
    dispose: remove,
  };
}

/**
 * A partial failure inside one batch call: the call succeeds, and the answer lists `failureCode` for the
 * ids `failWhen` selects, as ECR's `BatchGetImage` and `BatchDeleteImage` do per image id.
 * See: botocore ecr/2015-09-21 service-2.json, shape `ImageFailure` (`failureCode` values).
 */
export function failImageIds(
  transport: SimTransport,
  options: {
    readonly operation: 'BatchGetImage' | 'BatchDeleteImage';
    readonly failureCode: string;
    readonly failWhen: (imageId: { imageDigest?: string; imageTag?: string }) => boolean;
    readonly times: number;
  },
): () => void {
  let left = options.times;
  return transport.addInterceptor(async (call, answer) => {
    const output = (await answer()) as { images?: any[]; imageIds?: any[]; failures?: any[] };
    if (left <= 0 || call.service !== 'ecr' || call.operation !== options.operation) return output;
    const ids = ((call.input as { imageIds?: { imageDigest?: string; imageTag?: string }[] }).imageIds ?? []).filter(
      options.failWhen,
    );
    if (ids.length === 0) return output;
    left -= 1;
    const failed = (item: { imageId?: { imageDigest?: string; imageTag?: string } }) =>
      ids.some(
        (id) =>
          (id.imageDigest && item.imageId?.imageDigest === id.imageDigest) ||
          (id.imageTag && item.imageId?.imageTag === id.imageTag),
      );
    return {
      ...output,
      ...(output.images ? { images: output.images.filter((i) => !failed(i)) } : {}),
      ...(output.imageIds ? { imageIds: output.imageIds.filter((i) => !failed(i)) } : {}),
      failures: [
        ...(output.failures ?? []).filter((f) => !failed(f)),
        ...ids.map((imageId) => ({
          imageId,
          failureCode: options.failureCode,
          failureReason: `injected partial failure: ${options.failureCode}`,
        })),
      ],
    };
  });
}

/**
 * Lets other calls in flight run before this one is answered, for a number of turns chosen by `turnsFor`
 * (e.g. from a seeded generator): concurrent handler invocations then interleave differently on every run,
 * deterministically, without real time passing.
 */
export function interleave(transport: SimTransport, turnsFor: (call: SimCallContext) => number): () => void {
  return transport.addInterceptor(async (call, answer) => {
    for (let turns = turnsFor(call); turns > 0; turns -= 1) await new Promise<void>((resolve) => setImmediate(resolve));
    return answer();
  });
}
