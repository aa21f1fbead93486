/**
 * One audit of one account and region, on the guard's own code path: the inventory adapters, then the
 * scheduled reconcile's core (`reconcileAccount`) in dry run, whose protect step decides what it would tag or
 * restore and whose lifecycle check finds the rules that can still take an in-use image. Its alerts are
 * collected instead of published. Nothing here decides anything itself: it only watches what the core asked
 * of ECR (which indexes had which children) and reads the registry's replication rules.
 *
 * Read-only by construction: the ECR and lifecycle ports handed to the core refuse every write, so a change to
 * the core that starts writing in dry run fails the audit instead of changing a registry.
 */
import { DescribeRegistryCommand, type ECRClient } from '@aws-sdk/client-ecr';
import { EcrAdapter } from '../../lambda/adapters/ecr';
import { EcrLifecycleAdapter } from '../../lambda/adapters/ecr-lifecycle';
import { inventoryFor } from '../../lambda/adapters/inventory';
import type { Alert, GuardLogger, InventoryPort, LifecyclePolicyPort, ReconcileEcrPort } from '../../lambda/core/ports';
import { reconcileAccount, type ReconcileOutcome, type ReconcileSettings } from '../../lambda/core/reconcile';
import type { Digest, Inventory } from '../../lambda/core/types';
import type { FinalizeRequestMiddleware, MetadataBearer } from '@smithy/types';
import type { RegionClients } from '../aws';

export interface AuditSettings {
  readonly tagPrefix: string;
  /** also ask ECR's lifecycle policy preview for evidence where the evaluation finds a risk */
  readonly preview: boolean;
  /** apply what the audit finds (the `protect` command): the core runs without dry run */
  readonly apply?: boolean;
  /** only these repositories (the `protect` command applies only where the audit found something) */
  readonly repositories?: readonly string[];
}

/** A replication rule of the registry, as far as the SDK's model describes it. */
export interface ReplicationRuleSeen {
  readonly destinations: readonly string[];
  /** repository-name prefixes; empty: every repository */
  readonly prefixes: readonly string[];
}

export type ReplicationSeen =
  | { readonly status: 'read'; readonly rules: readonly ReplicationRuleSeen[] }
  | { readonly status: 'unreadable'; readonly reason: string };

export type TargetAudit =
  | {
      readonly status: 'read';
      readonly account: string;
      readonly region: string;
      readonly inventory: Inventory;
      readonly outcome: ReconcileOutcome;
      /** the alert the guard would publish, per repository */
      readonly alerts: ReadonlyMap<string, Alert>;
      /** per repository: each in-use image index and the manifests it references */
      readonly indexChildren: ReadonlyMap<string, ReadonlyMap<Digest, readonly Digest[]>>;
      readonly replication: ReplicationSeen;
      /** requests this audit made (every attempt the SDK sent) */
      readonly apiCalls: number;
    }
  | { readonly status: 'failed'; readonly account?: string; readonly region: string; readonly error: string };

export async function auditTarget(clients: RegionClients, settings: AuditSettings): Promise<TargetAudit> {
  const { account, region } = clients;
  const calls = countRequests(clients);
  const logger: GuardLogger = { info: () => undefined, warn: () => undefined, error: () => undefined };
  const alerts = new Map<string, Alert>();
  const indexChildren = new Map<string, Map<Digest, Digest[]>>();
  let inventory: Inventory | undefined;
  const inventoryPort = inventoryFor(account, region, { ecs: clients.ecs, lambda: clients.lambda });
  const watchedInventory: InventoryPort = {
    takeInventory: async () => (inventory = await inventoryPort.takeInventory()),
  };
  const ecr = watchIndexes(new EcrAdapter(clients.ecr), indexChildren, settings.apply ?? false);
  const lifecycle = settings.apply
    ? new EcrLifecycleAdapter(clients.ecr)
    : readOnlyLifecycle(new EcrLifecycleAdapter(clients.ecr));
  const reconcileSettings: ReconcileSettings = {
    tagPrefix: settings.tagPrefix,
    dryRun: !settings.apply,
    lifecycleCheck: settings.preview ? 'preview' : 'evaluate',
    installLifecycleShield: false,
    ...(settings.repositories ? { repositories: settings.repositories } : {}),
  };
  try {
    const outcome = await reconcileAccount({ account, region }, reconcileSettings, {
      ecr,
      inventory: watchedInventory,
      lifecycle,
      alerts: { publish: async (alert) => void alerts.set(alert.repository, alert) },
      logger,
    });
    const replication = await readReplication(clients.ecr);
    return {
      status: 'read',
      account,
      region,
      inventory: inventory!,
      outcome,
      alerts,
      indexChildren,
      replication,
      apiCalls: calls(),
    };
  } catch (error) {
    return { status: 'failed', account, region, error: describeError(error) };
  }
}

/** One line for a person: the AWS error's name and message, and its cause's when it wraps one. */
export function describeError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const own = `${error.name}: ${error.message}`;
  return error.cause ? `${own} (${describeError(error.cause)})` : own;
}

function watchIndexes(
  adapter: EcrAdapter,
  seen: Map<string, Map<Digest, Digest[]>>,
  writes: boolean,
): ReconcileEcrPort {
  const refuse = (what: string) => () => Promise.reject(new Error(`the audit is read-only; it tried to ${what}`));
  return {
    describeDigests: (repository, digests) => adapter.describeDigests(repository, digests),
    referencedManifests: async (repository, digests) => {
      const children = await adapter.referencedManifests(repository, digests);
      const known = seen.get(repository) ?? new Map<Digest, Digest[]>();
      for (const [index, list] of children) known.set(index, [...list]);
      seen.set(repository, known);
      return children;
    },
    listRepositories: () => adapter.listRepositories(),
    listProtectedImages: (repository, isProtective) => adapter.listProtectedImages(repository, isProtective),
    addProtectiveTags: writes
      ? (repository, requests) => adapter.addProtectiveTags(repository, requests)
      : refuse('add a protective tag'),
    restoreArchivedImage: writes
      ? (repository, digest) => adapter.restoreArchivedImage(repository, digest)
      : refuse('restore an archived image'),
    releaseProtectiveTag: refuse('release a protective tag'),
  };
}

function readOnlyLifecycle(adapter: EcrLifecycleAdapter): LifecyclePolicyPort {
  return {
    getLifecyclePolicy: (repository) => adapter.getLifecyclePolicy(repository),
    previewLifecyclePolicy: (repository) => adapter.previewLifecyclePolicy(repository),
    putLifecyclePolicy: () => Promise.reject(new Error('the audit is read-only; it tried to put a lifecycle policy')),
  };
}

/**
 * The registry's replication rules. ECR can also replicate deletions (a rule's `deleteReplication`, "When you
 * remove the last tag from an image, Amazon ECR deletes the untagged image … in each destination repository";
 * https://docs.aws.amazon.com/AmazonECR/latest/userguide/replication-delete.html), but the SDK's model this
 * project pins (@aws-sdk/client-ecr 3.1169.0, `ReplicationRule` = destinations + repositoryFilters) does not
 * carry that field, and its deserializer drops members it does not model: so the audit lists which
 * repositories replicate and where, and cannot tell whether deletions follow.
 */
async function readReplication(client: ECRClient): Promise<ReplicationSeen> {
  try {
    const { replicationConfiguration } = await client.send(new DescribeRegistryCommand({}));
    return {
      status: 'read',
      rules: (replicationConfiguration?.rules ?? []).map((rule) => ({
        destinations: (rule.destinations ?? []).map((d) => `${d.registryId ?? '?'}/${d.region ?? '?'}`),
        prefixes: (rule.repositoryFilters ?? []).flatMap((f) => (f.filter ? [f.filter] : [])),
      })),
    };
  } catch (error) {
    return { status: 'unreadable', reason: describeError(error) };
  }
}

/** Where a repository is replicated to, by the rules that select it (no filter: every repository). */
export function replicatedTo(repository: string, replication: ReplicationSeen): string[] {
  if (replication.status !== 'read') return [];
  const destinations = replication.rules
    .filter((rule) => rule.prefixes.length === 0 || rule.prefixes.some((prefix) => repository.startsWith(prefix)))
    .flatMap((rule) => rule.destinations);
  return [...new Set(destinations)];
}

/** Counts every request the clients send (retries included), for the API-use figure. */
function countRequests(clients: RegionClients): () => number {
  let count = 0;
  const counter: FinalizeRequestMiddleware<object, MetadataBearer> = (next) => async (args) => {
    count += 1;
    return next(args);
  };
  // After the retry middleware (also in this step, at high priority): every attempt is counted.
  clients.ecr.middlewareStack.add(counter, { step: 'finalizeRequest' });
  clients.ecs.middlewareStack.add(counter, { step: 'finalizeRequest' });
  clients.lambda.middlewareStack.add(counter, { step: 'finalizeRequest' });
  return () => count;
}
