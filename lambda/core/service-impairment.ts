/**
 * Page at the onset: ECS says a service cannot start tasks (`SERVICE_TASK_START_IMPAIRED`). If the digest its
 * current revision pins is gone or archived, that is the incident as it begins, and the page names the service,
 * the digest and the fix. Per impaired service (each once per batch, however often ECS repeated the event):
 * read what it pins (one DescribeServices, one DescribeServiceRevisions), then the same protect step as a push
 * (gone → CRITICAL; archived → CRITICAL and restore; untagged → protect, WARNING; tagged → another cause, INFO
 * log only), one alert per repository. A daemon (`DAEMON_TASK_START_IMPAIRED`) is read by the revision the event
 * names (one DescribeDaemonRevisions) and paged the same way, named as a daemon.
 * See: https://docs.aws.amazon.com/AmazonECS/latest/developerguide/ecs_service_events.html
 * See: https://docs.aws.amazon.com/AmazonECS/latest/developerguide/managed-daemons-events.html
 */
import { buildRepositoryAlert } from './alert';
import { publishOrLog } from './alert-publish';
import { mapWithConcurrency } from './concurrency';
import { clusterName } from './ecs-digests';
import { gapsConcerning, mergeInventories } from './inventory';
import type { AlertPort, EcrPort, GuardLogger, GuardMetrics, ServiceInventoryPort } from './ports';
import { protectInUseDigests } from './protect';
import type { ImpairedService, RepositoryReport } from './repository-report';
import type { GuardSettings, Inventory, ServiceImpairment } from './types';

export interface ImpairmentDependencies {
  readonly ecr: EcrPort;
  readonly services: ServiceInventoryPort;
  readonly alerts: AlertPort;
  readonly logger: GuardLogger;
  readonly metrics?: GuardMetrics;
  /** services read at once (ECS calls in flight) @default 4 */
  readonly concurrency?: number;
  /** the function's log group, named in alerts as where their full list is */
  readonly alertLogGroup?: string;
  /**
   * The guard's registry, when the impaired services run in another account or region (the watch reads a
   * workload through its reader role): the repositories are the registry's, the services are named with their
   * account and region. Absent, both are the impairments' own (the push path, in the guard's account and region).
   */
  readonly registry?: { readonly account: string; readonly region: string };
  /** what to check when a service cannot be read; the push function's own ECS permissions when absent */
  readonly whatToDoWhenUnreadable?: string;
}

export interface ImpairmentOutcome {
  /** queue message ids to report as failed, so the queue retries them */
  readonly failedMessageIds: readonly string[];
  readonly reports: readonly RepositoryReport[];
}

/** The impairments of one account and region (the handler groups them), checked and alerted once per service. */
export async function guardServiceImpairments(
  impairments: readonly ServiceImpairment[],
  settings: GuardSettings,
  deps: ImpairmentDependencies,
): Promise<ImpairmentOutcome> {
  const { logger } = deps;
  const first = impairments[0];
  if (!first) return { failedMessageIds: [], reports: [] };
  // ECS repeats the event while the service stays impaired: one check and one page per service and batch.
  // A daemon is read by the revision its tasks start from: one per revision.
  const keyOf = (impairment: ServiceImpairment) => impairment.daemonRevisionArn ?? impairment.serviceArn;
  const byService = new Map<string, { impairment: ServiceImpairment; messageIds: Set<string> }>();
  for (const impairment of impairments) {
    const seen = byService.get(keyOf(impairment));
    if (seen) seen.messageIds.add(impairment.messageId);
    else byService.set(keyOf(impairment), { impairment, messageIds: new Set([impairment.messageId]) });
  }

  const failed = new Set<string>();
  const read = await mapWithConcurrency([...byService.values()], deps.concurrency ?? 4, async (entry) => {
    const { impairment } = entry;
    try {
      const { daemonRevisionArn } = impairment;
      const readDaemon = deps.services.takeDaemonRevisionInventory?.bind(deps.services);
      if (daemonRevisionArn && !readDaemon) throw new Error('no reader of ECS daemon revisions is wired');
      const inventory = daemonRevisionArn
        ? await readDaemon!(daemonRevisionArn)
        : await deps.services.takeServiceInventory(impairment.clusterArn, impairment.serviceArn);
      return { entry, inventory };
    } catch (error) {
      logger.error('could not read an impaired service; its events will be retried', {
        error,
        service: impairment.serviceArn,
        ...(impairment.daemonRevisionArn ? { daemonRevision: impairment.daemonRevisionArn } : {}),
        whatToDo:
          deps.whatToDoWhenUnreadable ??
          'check the push function role can call ecs:DescribeServices, ecs:DescribeServiceRevisions and ' +
            'ecs:DescribeDaemonRevisions',
      });
      for (const id of entry.messageIds) failed.add(id);
      return undefined;
    }
  });

  const registry = deps.registry ?? { account: first.account, region: first.region };
  const inScope = settings.repositories?.length ? new Set(settings.repositories) : undefined;
  const servicesOfRepository = new Map<string, ImpairedService[]>();
  const inventories: Inventory[] = [];
  for (const result of read) {
    if (!result) continue;
    const { impairment } = result.entry;
    const impaired: ImpairedService = {
      ...(impairment.daemonRevisionArn ? { kind: 'daemon' as const } : {}),
      cluster: clusterName(impairment.clusterArn),
      service: impairment.service,
      serviceArn: impairment.serviceArn,
      time: impairment.time,
      eventId: impairment.eventId,
      // another account's or region's service: the page says where it runs, the repository is the registry's
      ...(impairment.account !== registry.account || impairment.region !== registry.region
        ? { account: impairment.account, region: impairment.region }
        : {}),
    };
    for (const gap of result.inventory.gaps) logger.warn('impaired service: inventory gap', { gap });
    const repositories = [...result.inventory.byRepository.keys()].filter((r) => !inScope || inScope.has(r));
    if (repositories.length === 0) {
      logger.info('impaired service pins no image of this registry in scope: nothing to check', {
        service: impairment.serviceArn,
        gaps: result.inventory.gaps.length,
      });
    }
    for (const repository of repositories) {
      servicesOfRepository.set(repository, [...(servicesOfRepository.get(repository) ?? []), impaired]);
    }
    inventories.push(result.inventory);
  }
  if (inventories.length === 0) return { failedMessageIds: [...failed], reports: [] };
  const inventory = mergeInventories(inventories);

  const reports = await mapWithConcurrency(
    [...servicesOfRepository],
    deps.concurrency ?? 4,
    async ([repository, services]) => {
      try {
        return await checkRepository(repository, services, inventory, registry, settings, deps);
      } catch (error) {
        logger.error('could not check the images of an impaired service; its events will be retried', {
          error,
          repository,
        });
        for (const service of services)
          for (const entry of byService.values())
            if (entry.impairment.serviceArn === service.serviceArn) for (const id of entry.messageIds) failed.add(id);
        return undefined;
      }
    },
  );
  return {
    failedMessageIds: [...failed],
    reports: reports.filter((report): report is RepositoryReport => report !== undefined),
  };
}

async function checkRepository(
  repository: string,
  services: readonly ImpairedService[],
  inventory: Inventory,
  where: { readonly account: string; readonly region: string },
  settings: GuardSettings,
  deps: ImpairmentDependencies,
): Promise<RepositoryReport> {
  const inUse = inventory.byRepository.get(repository) ?? new Map();
  const gaps = gapsConcerning(inventory.gaps, repository).map((gap) => gap.reason);
  const protection = await protectInUseDigests(
    repository,
    inUse,
    { account: where.account, region: where.region, pushes: [], deletes: [], gaps },
    settings,
    deps,
  );
  const report: RepositoryReport = { ...protection.report, impairedServices: services };
  const alert = buildRepositoryAlert(report);
  if (!alert) {
    deps.logger.info('impaired service: every image it pins is present and tagged; the impairment has another cause', {
      repository,
      services: services.map((s) => s.serviceArn),
      digests: [...inUse.keys()],
    });
    return report;
  }
  // Counted by AlertsPublished: a metric of its own would add to the monthly cost for no new signal.
  await publishOrLog(alert, deps);
  return report;
}
