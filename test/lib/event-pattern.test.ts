/**
 * The pattern builder on its own: what the rule asks EventBridge for. Whether EventBridge really matches
 * events this way is pinned by the emulator contract test (test/contract/event-pattern.test.ts).
 * Event fields: https://docs.aws.amazon.com/AmazonECR/latest/userguide/ecr-eventbridge.html
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isProtectiveTag, protectiveTagFor } from '../../lambda/core/protective-tag';
import {
  buildLifecycleExpiryEventPattern,
  buildPushEventPattern,
  buildServiceImpairedEventPattern,
  protectiveTagStart,
} from '../../lib/event-pattern';

describe('buildPushEventPattern', () => {
  it('selects successful ECR pushes (not of its own tags) and every successful deletion, of every repository when none are named', () => {
    // DELETE: "Event for a completed image deletion", https://docs.aws.amazon.com/AmazonECR/latest/userguide/ecr-eventbridge.html
    const pattern = buildPushEventPattern({ tagPrefix: 'digest-guard' });

    expect(pattern).toEqual({
      source: ['aws.ecr'],
      'detail-type': ['ECR Image Action'],
      detail: {
        result: ['SUCCESS'],
        $or: [
          { 'action-type': ['PUSH'], 'image-tag': [{ 'anything-but': { prefix: 'digest-guard-sha256-' } }] },
          { 'action-type': ['DELETE'] },
        ],
      },
    });
  });

  it('treats an empty repository list like no list: every repository', () => {
    const pattern = buildPushEventPattern({ tagPrefix: 'digest-guard', repositories: [] });

    expect(pattern.detail).not.toHaveProperty('repository-name');
  });

  it('names the repositories in scope when some are given', () => {
    const pattern = buildPushEventPattern({ tagPrefix: 'keep', repositories: ['app', 'team/api'] });

    expect(pattern.detail['repository-name']).toEqual(['app', 'team/api']);
  });

  it('given any prefix, when the pattern is built, then it excludes only pushes of the form <prefix>-sha256-', () => {
    const pattern = buildPushEventPattern({ tagPrefix: 'guard' });

    expect(pattern.detail.$or[0]['image-tag']).toEqual([{ 'anything-but': { prefix: 'guard-sha256-' } }]);
    for (const userTag of ['guardian-1', 'guard-staging', 'guard-', 'guard-sha256']) {
      expect(userTag.startsWith(protectiveTagStart('guard'))).toBe(false);
    }
  });

  it('given any tag the handler treats as protective, when it is pushed, then the rule drops it too', () => {
    // The handler skips pushes of `isProtectiveTag` tags (lambda/core/guard.ts); the rule must drop at least
    // those, or every protective tag the guard adds would come back as a push to check.
    const prefix = fc.stringMatching(/^[a-zA-Z0-9_][a-zA-Z0-9._-]{0,20}$/);
    const digest = fc.stringMatching(/^[a-f0-9]{64}$/).map((hex) => `sha256:${hex}`);
    fc.assert(
      fc.property(prefix, digest, (p, d) => {
        const tag = protectiveTagFor(d, p);
        return isProtectiveTag(tag, p) && tag.startsWith(protectiveTagStart(p));
      }),
    );
    fc.assert(
      fc.property(prefix, fc.string({ maxLength: 80 }), (p, tag) => {
        return !isProtectiveTag(tag, p) || tag.startsWith(protectiveTagStart(p));
      }),
    );
  });

  it('does not share its repository array with the caller', () => {
    const repositories = ['app'];
    const pattern = buildPushEventPattern({ tagPrefix: 'digest-guard', repositories });
    repositories.push('other');

    expect(pattern.detail['repository-name']).toEqual(['app']);
  });
});

describe('buildLifecycleExpiryEventPattern', () => {
  it('selects ECR lifecycle PolicyExecutionEvents delivered by CloudTrail, under both CloudTrail detail-types', () => {
    // eventSource/eventName: https://docs.aws.amazon.com/AmazonECR/latest/userguide/logging-using-cloudtrail.html
    // detail-types: https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-service-event-cloudtrail.html
    expect(buildLifecycleExpiryEventPattern()).toEqual({
      source: ['aws.ecr'],
      'detail-type': ['AWS Service Event via CloudTrail', 'AWS API Call via CloudTrail'],
      detail: { eventSource: ['ecr.amazonaws.com'], eventName: ['PolicyExecutionEvent'] },
    });
  });

  it('names the repositories in scope by serviceEventDetails.repositoryName', () => {
    expect(buildLifecycleExpiryEventPattern({ repositories: ['app'] }).detail.serviceEventDetails).toEqual({
      repositoryName: ['app'],
    });
  });
});

describe('buildServiceImpairedEventPattern', () => {
  it('given the stack account and region, when built, then it selects only their start-impaired ECS service and daemon actions', () => {
    // https://docs.aws.amazon.com/AmazonECS/latest/developerguide/ecs_service_events.html
    // https://docs.aws.amazon.com/AmazonECS/latest/developerguide/managed-daemons-events.html
    const pattern = buildServiceImpairedEventPattern({ account: '111122223333', region: 'eu-west-1' });

    expect(pattern).toEqual({
      source: ['aws.ecs'],
      'detail-type': ['ECS Service Action', 'ECS Daemon Service Action'],
      account: ['111122223333'],
      region: ['eu-west-1'],
      detail: { eventName: ['SERVICE_TASK_START_IMPAIRED', 'DAEMON_TASK_START_IMPAIRED'] },
    });
  });
});
