/**
 * The one protect step, shared by the batch of image events and the scheduled reconcile: describe the in-use
 * digests of one repository (with what in-use indexes reference), decide, tag or restore, and report. It
 * publishes nothing: each caller sends one alert.
 */
import type { ProtectedDigest, RepositoryReport, RestoreResult } from './repository-report';
import { findUntaggedInUseDigests, type RepositoryFindings } from './decide';
import { RepositoryNotFoundError } from './errors';
import { INDEX_MANIFEST_MEDIA_TYPES } from './manifest-media-types';
import type { EcrPort, GuardLogger } from './ports';
import type { Consumer, Digest, GuardSettings, ImageEvent, ImageState, PushEvent } from './types';

/** What the protect step calls: ECR, and a logger. */
export interface ProtectDependencies {
  readonly ecr: EcrPort;
  readonly logger: GuardLogger;
}

/** Where the in-use digests of one repository were found, and what the report should carry besides them. */
export interface ProtectionContext {
  readonly account: string;
  readonly region: string;
  /** the pushes that led here (none for a scheduled reconcile) */
  readonly pushes: readonly PushEvent[];
  /** the deletions and lifecycle actions that led here */
  readonly deletes?: readonly ImageEvent[];
  readonly gaps: readonly string[];
}

/**
 * The one protect path, shared by the push handler and the scheduled reconcile: describe the in-use
 * digests of one repository, decide with `findUntaggedInUseDigests`, add the protective tags (or say what
 * it would add, in dry run) and return the report. It publishes nothing: each caller sends one alert.
 */
export async function protectInUseDigests(
  repository: string,
  inUseAsSeen: ReadonlyMap<Digest, readonly Consumer[]>,
  context: ProtectionContext,
  settings: GuardSettings,
  deps: ProtectDependencies,
): Promise<{
  report: RepositoryReport;
  findings?: RepositoryFindings;
  states: readonly ImageState[];
  inUse: ReadonlyMap<Digest, readonly Consumer[]>;
}> {
  const { logger } = deps;
  let inUse = inUseAsSeen;
  const report = {
    account: context.account,
    region: context.region,
    repository,
    dryRun: settings.dryRun,
    tagPrefix: settings.tagPrefix,
    pushes: context.pushes,
    deletes: context.deletes ?? [],
    protected: [] as ProtectedDigest[],
    gone: [] as RepositoryReport['gone'][number][],
    archived: [] as RepositoryReport['archived'][number][],
    restores: [] as RestoreResult[],
    refused: [] as RepositoryReport['refused'][number][],
    gaps: context.gaps,
  };
  if (inUse.size === 0) {
    logger.info('no workload uses this repository: nothing to protect', { repository });
    return { report, states: [], inUse };
  }

  let states: ImageState[];
  try {
    states = await deps.ecr.describeDigests(repository, [...inUse.keys()]);
    ({ inUse, states } = await withIndexChildren(repository, inUse, states, deps.ecr));
  } catch (error) {
    if (!(error instanceof RepositoryNotFoundError)) throw error;
    // The repository was deleted after the push: every in-use digest of it is gone.
    states = [...inUse.keys()].map((digest): ImageState => ({ digest, present: false }));
  }
  const findings = findUntaggedInUseDigests(repository, inUse, states, settings.tagPrefix);
  report.gone.push(...findings.gone);
  report.archived.push(...findings.archived);
  report.restores.push(...(await restoreArchived(repository, findings.archived, states, settings, deps)));

  // One call for the repository: the adapter reads up to 50 digests and their tags per BatchGetImage.
  const outcomes =
    settings.dryRun || findings.toProtect.length === 0
      ? []
      : await deps.ecr.addProtectiveTags(
          repository,
          findings.toProtect.map(({ digest, tag }) => ({ digest, tag })),
        );
  for (const [i, item] of findings.toProtect.entries()) {
    const digestLog = { repository, digest: item.digest, tag: item.tag };
    if (settings.dryRun) {
      logger.warn('dry run: would protect an in-use digest that has no tag', digestLog);
      report.protected.push({ ...item, how: 'would-tag' });
      continue;
    }
    const outcome = outcomes[i];
    if (!outcome) throw new Error(`no protect outcome for ${repository}@${item.digest}: ${outcomes.length} answers`);
    switch (outcome.outcome) {
      case 'tagged':
        logger.warn('protected an in-use digest that had no tag left', digestLog);
        report.protected.push({ ...item, how: 'tagged' });
        break;
      case 'already-tagged':
        // Another invocation protected it between our describe and our put: reported by that one.
        logger.info('protective tag already in place', digestLog);
        break;
      case 'image-missing':
        logger.error('an in-use digest vanished before it could be protected', digestLog);
        report.gone.push({ digest: item.digest, consumers: item.consumers });
        break;
      case 'tag-taken':
        logger.error('the protective tag names another image; not moved', {
          ...digestLog,
          otherDigest: outcome.otherDigest,
        });
        report.refused.push({
          digest: item.digest,
          consumers: item.consumers,
          reason: `the tag ${item.tag} already names ${outcome.otherDigest ?? 'another image'}, and the guard never moves a tag`,
        });
        break;
      case 'unsupported-media-type':
        logger.error('cannot re-put this manifest media type', { ...digestLog, mediaType: outcome.mediaType });
        report.refused.push({
          digest: item.digest,
          consumers: item.consumers,
          reason: `its manifest media type ${outcome.mediaType ?? '(unknown)'} cannot be re-put with a new tag`,
        });
        break;
    }
  }
  for (const g of report.gone)
    logger.error('an in-use digest is gone: the next task launch will fail; redeploy', {
      repository,
      digest: g.digest,
    });
  return { report, findings, states, inUse };
}

/**
 * Adds what in-use image indexes reference: a multi-platform push leaves the per-platform manifests
 * untagged, and no AWS document says a lifecycle rule spares the children of an index it does not expire
 * (ECR only refuses a direct BatchDeleteImage of a referenced child: `ImageReferencedByManifestList`). So
 * the children are protected like the index, with its consumers. Costs nothing for single-platform images:
 * only digests whose media type is an index are read.
 */
export async function withIndexChildren(
  repository: string,
  inUse: ReadonlyMap<Digest, readonly Consumer[]>,
  states: ImageState[],
  ecr: EcrPort,
): Promise<{ inUse: ReadonlyMap<Digest, readonly Consumer[]>; states: ImageState[] }> {
  const indexes = states
    .filter((s) => s.present && INDEX_MANIFEST_MEDIA_TYPES.includes(s.manifestMediaType ?? ''))
    .map((s) => s.digest);
  if (indexes.length === 0) return { inUse, states };
  const childrenOf = await ecr.referencedManifests(repository, indexes);
  const expanded = new Map<Digest, readonly Consumer[]>(inUse);
  for (const [index, children] of childrenOf) {
    for (const child of children) {
      const known = expanded.get(child) ?? [];
      expanded.set(child, [...known, ...(inUse.get(index) ?? []).filter((c) => !known.includes(c))]);
    }
  }
  const described = new Set(states.map((s) => s.digest));
  const newChildren = [...expanded.keys()].filter((digest) => !described.has(digest));
  const childStates = newChildren.length ? await ecr.describeDigests(repository, newChildren) : [];
  return { inUse: expanded, states: [...states, ...childStates] };
}

/**
 * Archived images cannot be pulled: an in-use one is restored (`UpdateImageStorageClass` to STANDARD, up to
 * about 20 minutes); one already ACTIVATING is left to finish; dry run only says what it would do.
 */
async function restoreArchived(
  repository: string,
  archived: RepositoryFindings['archived'],
  states: readonly ImageState[],
  settings: GuardSettings,
  deps: ProtectDependencies,
): Promise<RestoreResult[]> {
  const restores: RestoreResult[] = [];
  const stateOf = new Map(states.map((s) => [s.digest, s]));
  for (const item of archived) {
    const state = stateOf.get(item.digest);
    if (state?.present && state.storageStatus === 'ACTIVATING') {
      restores.push({ digest: item.digest, consumers: item.consumers, how: 'restore-in-progress' });
      continue;
    }
    if (settings.dryRun) {
      restores.push({ digest: item.digest, consumers: item.consumers, how: 'would-restore' });
      continue;
    }
    const outcome = await deps.ecr.restoreArchivedImage(repository, item.digest);
    if (outcome.outcome === 'restoring') {
      deps.logger.error('restoring an archived image that is in use', {
        repository,
        digest: item.digest,
        status: outcome.status,
      });
      restores.push({ digest: item.digest, consumers: item.consumers, how: 'restore-started' });
    } else {
      deps.logger.error('could not restore an archived image that is in use', {
        repository,
        digest: item.digest,
        outcome,
      });
      restores.push({
        digest: item.digest,
        consumers: item.consumers,
        how: 'restore-failed',
        detail: outcome.outcome === 'not-supported' ? outcome.reason : 'the image is gone',
      });
    }
  }
  return restores;
}

/** The in-use digests of a repository with what in-use indexes reference (one DescribeImages per 100 first). */
export async function inUseWithIndexChildren(
  repository: string,
  inUse: ReadonlyMap<Digest, readonly Consumer[]>,
  ecr: EcrPort,
): Promise<ReadonlyMap<Digest, readonly Consumer[]>> {
  if (inUse.size === 0) return inUse;
  return (await withIndexChildren(repository, inUse, await ecr.describeDigests(repository, [...inUse.keys()]), ecr))
    .inUse;
}
