/**
 * Page at the onset in other accounts and regions: a workload forwards its `SERVICE_TASK_START_IMPAIRED` and
 * `DAEMON_TASK_START_IMPAIRED` actions to the guard's bus, whose rule sends them to the watch (the watch role, not
 * the push function's, may assume the workloads' reader roles). The watch reads what the impaired service (or
 * daemon revision) pins through that workload's reader, and the push path's impairment step decides and pages
 * (lambda/core/service-impairment.ts): gone or archived → CRITICAL naming the workload's account and region, the
 * service and the digest. The own account's and region's impairments stay on the push path (the workload stack
 * does not forward them).
 * - An account and region the guard neither is nor lists cannot be read: logged and counted
 *   (`UnreadableWorkloadEvents`), not failed, since no retry can read it.
 * - A read that fails fails the record: the queue retries it, then dead-letters it.
 * - The reader keeps only the guard's own registry's images: a service pinning only another registry's is logged as
 *   nothing to check (that registry's guard pages about it).
 * See: https://docs.aws.amazon.com/AmazonECS/latest/developerguide/ecs_service_events.html
 * See: https://docs.aws.amazon.com/AmazonECS/latest/developerguide/managed-daemons-events.html
 */
import type { AccountRegion } from '../in-use-index/types';
import type { WorkloadReadPort } from '../ports';
import type { RepositoryReport } from '../repository-report';
import { guardServiceImpairments } from '../service-impairment';
import type { GuardSettings, ServiceImpairment } from '../types';
import { workloadReaderRoleName } from '../workloads';
import type { WatchDependencies } from './apply';

export interface StartImpairedOutcome {
  readonly failedMessageIds: readonly string[];
  readonly reports: readonly RepositoryReport[];
  /** services and daemon revisions read (one per impaired service or revision and batch) */
  readonly reads: number;
}

/** The impairments of a batch, per workload (account, region), each read through that workload's reader. */
export async function watchStartImpaired(
  impairments: readonly ServiceImpairment[],
  settings: GuardSettings,
  deps: WatchDependencies,
  readerOf: (workload: AccountRegion) => WorkloadReadPort | undefined,
): Promise<StartImpairedOutcome> {
  const byWorkload = new Map<string, ServiceImpairment[]>();
  for (const impairment of impairments) {
    const key = `${impairment.account}/${impairment.region}`;
    byWorkload.set(key, [...(byWorkload.get(key) ?? []), impairment]);
  }
  const failed: string[] = [];
  const reports: RepositoryReport[] = [];
  let reads = 0;
  for (const group of byWorkload.values()) {
    const { account, region } = group[0]!;
    const reader = readerOf({ account, region });
    if (!reader) {
      for (const messageId of new Set(group.map((i) => i.messageId))) {
        deps.logger.warn('a start-impaired action of a workload this guard does not list: not read, not paged', {
          messageId,
          account,
          region,
          service: group.find((i) => i.messageId === messageId)!.serviceArn,
          whatToDo:
            `add ${account} to workloadAccounts and ${region} to workloadRegions and deploy the workload stack ` +
            'there: until then the guard cannot read what that service pins, so neither pages at its onset nor ' +
            'protects its digests from the list',
        });
        deps.metrics?.count('UnreadableWorkloadEvents', 1);
      }
      continue;
    }
    const own = account === deps.registry.account && region === deps.registry.region;
    reads += new Set(group.map((i) => i.daemonRevisionArn ?? i.serviceArn)).size;
    const outcome = await guardServiceImpairments(group, settings, {
      ecr: deps.ecr,
      services: reader,
      alerts: deps.alerts,
      logger: deps.logger,
      ...(deps.metrics ? { metrics: deps.metrics } : {}),
      ...(deps.alertLogGroup ? { alertLogGroup: deps.alertLogGroup } : {}),
      registry: deps.registry,
      whatToDoWhenUnreadable: own
        ? 'check the watch role may call ecs:DescribeServices, ecs:DescribeServiceRevisions and ' +
          'ecs:DescribeDaemonRevisions here; throttling clears by itself on the retries'
        : `check that account ${account} deployed the workload stack in ${region} (role ` +
          `${workloadReaderRoleName(deps.registry.region)}) and that it trusts this guard's watch role; throttling ` +
          'clears by itself on the retries',
    });
    failed.push(...outcome.failedMessageIds);
    reports.push(...outcome.reports);
  }
  return { failedMessageIds: failed, reports, reads };
}
