/**
 * The fewest ECS requests a complete in-use inventory needs (design.md, "Performance reference"): ListClusters;
 * per cluster the ListServices and ListTasks pages (100 a page; one page even when empty), ⌈services/10⌉
 * DescribeServices and ⌈tasks/100⌉ DescribeTasks (one cluster per call); and ⌈revisions/20⌉
 * DescribeServiceRevisions over the account (one current revision per service in steady state). ECS Managed
 * Daemons add per cluster the ListDaemons pages (100 a page; one page even with no daemon: the call is per
 * cluster), one DescribeDaemon per daemon (it takes one ARN) and ⌈daemon revisions/20⌉ DescribeDaemonRevisions
 * over the account. The limits are
 * the ECS API reference's, written out here apart from the adapter on purpose: the benchmarks and the adapter's
 * tests judge the adapter against them.
 */
/** ListClusters, ListServices and ListTasks: at most 100 ARNs a page. */
const LIST_PAGE_SIZE = 100;
/** DescribeServices: "You may specify up to 10 services to describe." */
const SERVICES_PER_DESCRIBE = 10;
/** DescribeTasks: "A list of up to 100 task IDs or full ARN entries." */
const TASKS_PER_DESCRIBE = 100;
/** DescribeServiceRevisions: "You can specify a maximum of 20 ARNs." */
const REVISIONS_PER_DESCRIBE = 20;
/** ListDaemons: maxResults "can be between 1 and 100". */
const DAEMONS_PER_PAGE = 100;
/** DescribeDaemonRevisions: "You can specify up to 20 ARNs." */
const DAEMON_REVISIONS_PER_DESCRIBE = 20;

/** The counts the request bound depends on. */
export interface AccountShape {
  /** services of each cluster (one entry per cluster) */
  readonly servicesPerCluster: readonly number[];
  /** RUNNING-desired tasks of each cluster, in the same order */
  readonly tasksPerCluster: readonly number[];
  /** distinct current service revisions @default - one per service */
  readonly currentRevisions?: number;
  /** ECS Managed Daemons of each cluster, in the same order @default - none */
  readonly daemonsPerCluster?: readonly number[];
  /** distinct current daemon revisions @default - one per daemon */
  readonly currentDaemonRevisions?: number;
}

/** The fewest requests a complete inventory of an account of this shape needs. */
export function countInventoryLowerBound(shape: AccountShape): number {
  const { servicesPerCluster: services, tasksPerCluster: tasks } = shape;
  if (services.length !== tasks.length) throw new RangeError('servicesPerCluster and tasksPerCluster differ in length');
  const pages = (n: number): number => Math.max(1, Math.ceil(n / LIST_PAGE_SIZE));
  const daemons = shape.daemonsPerCluster ?? services.map(() => 0);
  if (daemons.length !== services.length)
    throw new RangeError('daemonsPerCluster and servicesPerCluster differ in length');
  const revisions = shape.currentRevisions ?? services.reduce((sum, n) => sum + n, 0);
  const daemonCount = daemons.reduce((sum, n) => sum + n, 0);
  const daemonRevisions = shape.currentDaemonRevisions ?? daemonCount;
  let total = pages(services.length); // ListClusters
  services.forEach((s, i) => {
    const t = tasks[i]!;
    total += pages(s) + pages(t) + Math.ceil(s / SERVICES_PER_DESCRIBE) + Math.ceil(t / TASKS_PER_DESCRIBE);
    total += Math.max(1, Math.ceil(daemons[i]! / DAEMONS_PER_PAGE)); // ListDaemons
  });
  return (
    total +
    Math.ceil(revisions / REVISIONS_PER_DESCRIBE) +
    daemonCount + // DescribeDaemon
    Math.ceil(daemonRevisions / DAEMON_REVISIONS_PER_DESCRIBE)
  );
}
