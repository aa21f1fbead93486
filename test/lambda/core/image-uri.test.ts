import { describe, expect, it } from 'vitest';
import { parseImageUri } from '../../../lambda/core/image-uri';

const D = `sha256:${'a'.repeat(64)}`;

// Host forms: https://docs.aws.amazon.com/AmazonECR/latest/userguide/Registries.html
// Dual-stack: https://docs.aws.amazon.com/AmazonECR/latest/userguide/ecr-requests.html (dkr-ecr.<region>.on.aws)
describe('parseImageUri', () => {
  it.each([
    ['tag only', '111122223333.dkr.ecr.eu-west-1.amazonaws.com/app:prod', { repository: 'app', tag: 'prod' }],
    ['digest only', `111122223333.dkr.ecr.eu-west-1.amazonaws.com/app@${D}`, { repository: 'app', digest: D }],
    [
      'tag and digest (ECS pinned form)',
      `111122223333.dkr.ecr.eu-west-1.amazonaws.com/team/app:prod@${D}`,
      { repository: 'team/app', tag: 'prod', digest: D },
    ],
    ['no tag, no digest', '111122223333.dkr.ecr.eu-west-1.amazonaws.com/a.b/c-d_e', { repository: 'a.b/c-d_e' }],
    [
      'FIPS host',
      '111122223333.dkr.ecr-fips.us-gov-west-1.amazonaws.com/app:1',
      { repository: 'app', tag: '1', region: 'us-gov-west-1' },
    ],
    [
      'dual-stack host',
      '111122223333.dkr-ecr.ap-southeast-2.on.aws/app:v2',
      { repository: 'app', tag: 'v2', region: 'ap-southeast-2' },
    ],
    [
      'China partition',
      '111122223333.dkr.ecr.cn-north-1.amazonaws.com.cn/app:v2',
      { repository: 'app', tag: 'v2', region: 'cn-north-1' },
    ],
  ])('parses %s', (_name, uri, expected) => {
    expect(parseImageUri(uri)).toMatchObject({ registryId: '111122223333', ...expected });
  });

  it.each([
    ['Docker Hub', 'nginx:latest'],
    ['Docker Hub with host', 'docker.io/library/nginx:1.27'],
    ['ECR Public', 'public.ecr.aws/nginx/nginx:latest'],
    ['another registry', 'ghcr.io/org/app:1'],
    ['a short digest', '111122223333.dkr.ecr.eu-west-1.amazonaws.com/app@sha256:abc'],
    ['an uppercase repository', '111122223333.dkr.ecr.eu-west-1.amazonaws.com/App:1'],
    ['a bad tag', '111122223333.dkr.ecr.eu-west-1.amazonaws.com/app:-bad'],
    ['an 11-digit account', '11112222333.dkr.ecr.eu-west-1.amazonaws.com/app:1'],
    ['empty', ''],
  ])('ignores %s', (_name, uri) => {
    expect(parseImageUri(uri)).toBeUndefined();
  });
});
