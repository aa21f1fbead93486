/**
 * Builds a realistic ECS account shape in the simulated account fast, for scenario tests and benchmarks:
 * N clusters, services spread round-robin over them (one task definition family per service), tasks
 * spread over the services, each service deploying one of the given `repo:tag` images through the same
 * control plane a test would use (so version consistency pins every service's digest).
 */
import type { EcrLookup } from './contracts';
import type { SimEcs } from './ecs';

export interface FleetSpec {
  readonly clusters: number;
  readonly services: number;
  /** running tasks in total, spread as evenly as possible over the services that are not idle */
  readonly tasks: number;
  /** `repo:tag` (or full image URIs) deployed round-robin; every tag must exist in the registry */
  readonly images: readonly string[];
  /** how many services (the last ones) want one task but run none: the state the incident starts from (default 0) */
  readonly idleServices?: number;
  /** name prefix for clusters and services (default `fleet`) */
  readonly prefix?: string;
}

export interface FleetService {
  readonly cluster: string;
  readonly service: string;
  readonly image: string;
  readonly tasks: number;
}

export interface Fleet {
  readonly clusters: readonly string[];
  readonly services: readonly FleetService[];
  readonly taskCount: number;
}

export function populateFleet(ecs: SimEcs, ecr: EcrLookup, spec: FleetSpec): Fleet {
  if (spec.clusters < 1 || spec.services < 0 || spec.tasks < 0)
    throw new Error('populateFleet: counts must be positive');
  if (spec.images.length === 0) throw new Error('populateFleet: give at least one image');
  const prefix = spec.prefix ?? 'fleet';
  const idle = Math.min(spec.idleServices ?? 0, spec.services);
  const busy = spec.services - idle;
  if (busy === 0 && spec.tasks > 0) throw new Error('populateFleet: tasks need at least one service that is not idle');

  const images = spec.images.map((image) => (image.includes('/') ? image : `${ecr.registryHost}/${image}`));
  const clusters: string[] = [];
  for (let c = 0; c < spec.clusters; c += 1) {
    const name = `${prefix}-cluster-${pad(c, spec.clusters)}`;
    ecs.createCluster(name);
    clusters.push(name);
  }

  const services: FleetService[] = [];
  const base = busy > 0 ? Math.floor(spec.tasks / busy) : 0;
  const remainder = busy > 0 ? spec.tasks % busy : 0;
  let taskCount = 0;
  for (let s = 0; s < spec.services; s += 1) {
    const cluster = clusters[s % clusters.length]!;
    const service = `${prefix}-svc-${pad(s, spec.services)}`;
    const image = images[s % images.length]!;
    const tasks = s < busy ? base + (s < remainder ? 1 : 0) : 0;
    const taskDefinition = ecs.registerTaskDefinition(service, [{ name: 'app', image }]);
    if (s < busy) {
      ecs.createService(cluster, service, taskDefinition, tasks);
    } else {
      // Idle as in the incident: the service wants a task, but every task has stopped.
      ecs.createService(cluster, service, taskDefinition, 1);
      ecs.stopAllTasks(cluster, service);
    }
    services.push({ cluster, service, image, tasks });
    taskCount += tasks;
  }
  return { clusters, services, taskCount };
}

function pad(index: number, count: number): string {
  return String(index).padStart(String(Math.max(count - 1, 0)).length, '0');
}
