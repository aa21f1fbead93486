/**
 * The inventory of another workload (account, region) through the reader role its workload stack created: one ECS
 * and one Lambda client for it, whose credentials come from STS `AssumeRole` into that role, refreshed by the SDK
 * before they expire. The inventory keeps only images of the guard's own registry: those are the digests this
 * guard can protect.
 * See: https://docs.aws.amazon.com/sdk-for-javascript/v3/developer-guide/loading-node-credentials-temporary.html
 * See: https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRole.html
 */
import { ECSClient } from '@aws-sdk/client-ecs';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { fromTemporaryCredentials } from '@aws-sdk/credential-providers';
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from '@smithy/types';
import type { InventoryPort, WorkloadReadPort } from '../core/ports';
import { workloadReaderRoleArn } from '../core/workloads';
import { SDK_CLIENT_CONFIG } from './clients';
import { type InventoryClients, inventoryFor, workloadReaderFor } from './inventory';

export interface WorkloadInventoryOptions {
  /** the guard's registry: its account and region name the reader role and filter the images */
  readonly registry: { readonly account: string; readonly region: string };
  readonly partition: string;
  /** the guard's own credentials; the function's role when absent */
  readonly guardCredentials?: AwsCredentialIdentity | AwsCredentialIdentityProvider;
  /** extra client settings (a request handler for the simulated organization) */
  readonly clientConfig?: { readonly requestHandler?: unknown; readonly maxAttempts?: number };
}

/**
 * The shortest session STS grants (15 minutes): one list of one workload fits well inside it, and the SDK assumes
 * the role again should a list outlast it.
 */
const READER_SESSION_SECONDS = 900;
const READER_SESSION_NAME = 'ecr-digest-guard-list';

/** Credentials are refreshed this long before they expire, as the SDK's own credential cache does. */
const REFRESH_BEFORE_EXPIRY_MS = 5 * 60_000;

/**
 * One AssumeRole per workload and session for both clients: each SDK client caches credentials only for itself, so
 * the ECS and the Lambda client would each assume the role. A failure is not kept: the next call assumes again.
 */
function sharedUntilExpiring(provider: AwsCredentialIdentityProvider): AwsCredentialIdentityProvider {
  let current: Promise<AwsCredentialIdentity> | undefined;
  return async () => {
    const pending = current;
    if (pending) {
      const credentials = await pending.catch(() => undefined);
      const expiresAt = credentials?.expiration?.getTime();
      if (credentials && (expiresAt === undefined || expiresAt - Date.now() > REFRESH_BEFORE_EXPIRY_MS)) {
        return credentials;
      }
      if (current === pending) current = undefined;
    }
    current ??= provider().catch((error: unknown) => {
      current = undefined;
      throw error;
    });
    return current;
  };
}

/**
 * The ECS and Lambda clients of one workload, signed with one shared session of its reader role: what the list
 * and the watch both read a workload with. `sessionName` says in CloudTrail which of them read.
 */
export function workloadClientsFor(
  workload: { readonly account: string; readonly region: string },
  options: WorkloadInventoryOptions & { readonly sessionName?: string },
): { readonly ecs: ECSClient; readonly lambda: LambdaClient } {
  const extra = (options.clientConfig ?? {}) as Record<string, unknown>;
  const assumeReader = fromTemporaryCredentials({
    params: {
      RoleArn: workloadReaderRoleArn(options.partition, workload.account, options.registry.region),
      RoleSessionName: options.sessionName ?? READER_SESSION_NAME,
      DurationSeconds: READER_SESSION_SECONDS,
    },
    // STS in the guard's own region: a regional endpoint, as the SDK uses by default.
    clientConfig: { region: options.registry.region, ...extra },
    ...(options.guardCredentials ? { masterCredentials: options.guardCredentials } : {}),
  });
  const config = {
    ...SDK_CLIENT_CONFIG,
    region: workload.region,
    credentials: sharedUntilExpiring(assumeReader),
    ...extra,
  };
  return { ecs: new ECSClient(config), lambda: new LambdaClient(config) };
}

/** One client set per workload, created once per run by the caller. */
export function workloadInventoryFor(
  workload: { readonly account: string; readonly region: string },
  options: WorkloadInventoryOptions,
): InventoryPort {
  return inventoryFor(options.registry.account, options.registry.region, workloadClientsFor(workload, options));
}

const WATCH_SESSION_NAME = 'ecr-digest-guard-watch';

/**
 * The watch's readers, one per workload for as long as the execution environment lives (the shared session is
 * refreshed before it expires): the guard's own account and region with the watch's own clients, any other
 * workload through its reader role. Which workloads may be read at all is the core's decision.
 */
export function watchReadersFor(
  options: WorkloadInventoryOptions & { readonly ownClients?: InventoryClients },
): (workload: { readonly account: string; readonly region: string }) => WorkloadReadPort {
  const readers = new Map<string, WorkloadReadPort>();
  const { registry } = options;
  return (workload) => {
    const key = `${workload.account}:${workload.region}`;
    let reader = readers.get(key);
    if (!reader) {
      const own = workload.account === registry.account && workload.region === registry.region;
      reader = workloadReaderFor(
        registry.account,
        registry.region,
        own
          ? (options.ownClients ?? {})
          : workloadClientsFor(workload, { ...options, sessionName: WATCH_SESSION_NAME }),
      );
      readers.set(key, reader);
    }
    return reader;
  };
}
