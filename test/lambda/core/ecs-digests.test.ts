import { describe, expect, it } from 'vitest';
import { failureGaps, revisionDigests, taskDefinitionDigests, taskDigests } from '../../../lambda/core/ecs-digests';

const ACCOUNT = '111122223333';
const REGISTRY = `${ACCOUNT}.dkr.ecr.eu-west-1.amazonaws.com`;
const CLUSTER = `arn:aws:ecs:eu-west-1:${ACCOUNT}:cluster/prod`;
const D = `sha256:${'a'.repeat(64)}`;
const repositoryOf = (image: string) =>
  image.startsWith(`${REGISTRY}/`) ? image.slice(REGISTRY.length + 1).split(/[:@]/)[0] : undefined;

describe('ecs-digests: which digest of an ECS workload counts', () => {
  it('given a task with a pending container, when mapped, then only the resolved digest counts', () => {
    const found = taskDigests(
      CLUSTER,
      {
        group: 'service:web',
        taskArn: 'arn:task/1',
        containers: [
          { name: 'app', image: `${REGISTRY}/app:prod`, imageDigest: D },
          { name: 'sidecar', image: `${REGISTRY}/sidecar:prod` },
          { name: 'other', image: 'public.ecr.aws/x/y:1', imageDigest: D },
        ],
      },
      repositoryOf,
    );
    expect(found).toEqual([
      {
        repository: 'app',
        digest: D,
        consumer: {
          kind: 'ecs-task',
          cluster: 'prod',
          service: 'web',
          arn: 'arn:task/1',
          container: 'app',
          image: `${REGISTRY}/app:prod`,
        },
      },
    ]);
  });

  it('given a current revision with a tag no task resolves, when mapped, then it is a gap of that repository', () => {
    const found = revisionDigests(
      'ecs-service',
      CLUSTER,
      { serviceName: 'web' },
      {
        serviceRevisionArn: 'arn:rev/1',
        containerImages: [{ containerName: 'app', image: `${REGISTRY}/app:prod` }],
      },
      [],
      repositoryOf,
    );
    expect(found.inUse).toEqual([]);
    expect(found.gaps).toEqual([{ reason: expect.stringContaining('without a digest'), repositories: ['app'] }]);
  });

  it('given a rollback revision with a tag only, when mapped, then neither a digest nor a gap comes of it', () => {
    const found = revisionDigests(
      'ecs-rollback',
      CLUSTER,
      { serviceName: 'web' },
      {
        containerImages: [{ containerName: 'app', image: `${REGISTRY}/app:prod` }],
      },
      [],
      repositoryOf,
    );
    expect(found).toEqual({ inUse: [], gaps: [] });
  });

  it('given a task definition pinned by digest, when mapped, then the pinned digest counts', () => {
    const image = `${REGISTRY}/app@${D}`;
    const found = taskDefinitionDigests(
      CLUSTER,
      { serviceName: 'web' },
      'arn:td/1',
      [{ name: 'app', image }],
      [],
      repositoryOf,
    );
    expect(found.inUse.map((f) => [f.repository, f.digest, f.consumer.kind])).toEqual([
      ['app', D, 'ecs-task-definition'],
    ]);
    expect(found.gaps).toEqual([]);
  });

  it('given per-item failures of a Describe call, when mapped, then each is a gap naming the call and cluster', () => {
    expect(failureGaps('DescribeTasks', CLUSTER, [{ arn: 'arn:task/9', reason: 'MISSING' }])).toEqual([
      { reason: 'DescribeTasks in cluster prod: arn:task/9 MISSING' },
    ]);
  });
});
