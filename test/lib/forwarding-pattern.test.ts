/**
 * The patterns of the workload stack's forwarding rules and of the guard bus's watch rule, as plain JSON (the
 * moto contract in test/contract/forwarding.test.ts feeds the same JSON to an emulator).
 * Detail-types: https://docs.aws.amazon.com/AmazonECS/latest/developerguide/ecs_task_events.html,
 * ecs_service_deployment_events.html, ecs_service_events.html and managed-daemons-events.html (ECS Daemon
 * Deployment State Change, ECS Daemon Service Action / DAEMON_TASK_START_IMPAIRED).
 */
import { describe, expect, it } from 'vitest';
import { buildForwardingEventPatterns, buildWatchEventPatterns } from '../../lib/event-pattern';

describe('forwarding patterns', () => {
  const patterns = buildForwardingEventPatterns();
  const byId = (id: string) => patterns.find((p) => p.id === id)?.pattern;

  it('given the workload stack, when its patterns are built, then ECS task, deployment and daemon deployment changes are forwarded', () => {
    expect(byId('EcsStateChanges')).toEqual({
      source: ['aws.ecs'],
      'detail-type': ['ECS Task State Change', 'ECS Deployment State Change', 'ECS Daemon Deployment State Change'],
    });
  });

  it('given the workload stack, when its patterns are built, then only the start-impaired service and daemon actions are forwarded', () => {
    expect(byId('EcsStartImpaired')).toEqual({
      source: ['aws.ecs'],
      'detail-type': ['ECS Service Action', 'ECS Daemon Service Action'],
      detail: { eventName: ['SERVICE_TASK_START_IMPAIRED', 'DAEMON_TASK_START_IMPAIRED'] },
    });
  });

  it('given Lambda API calls carry versioned event names, when the pattern is built, then it matches them by prefix', () => {
    expect(byId('LambdaImageChanges')).toEqual({
      source: ['aws.lambda'],
      'detail-type': ['AWS API Call via CloudTrail'],
      detail: {
        eventSource: ['lambda.amazonaws.com'],
        eventName: [
          { prefix: 'CreateFunction' },
          { prefix: 'UpdateFunctionCode' },
          { prefix: 'PublishVersion' },
          { prefix: 'CreateAlias' },
          { prefix: 'UpdateAlias' },
        ],
      },
    });
  });

  it('given the watch, when its patterns are built, then they select task, deployment and daemon deployment changes and the Lambda calls it reads', () => {
    const watched = buildWatchEventPatterns();
    expect(watched.ecs).toEqual({
      source: ['aws.ecs'],
      'detail-type': ['ECS Task State Change', 'ECS Deployment State Change', 'ECS Daemon Deployment State Change'],
    });
    // what is forwarded for Lambda is exactly what the watch rules route (one pattern, one list of actions)
    expect(watched.lambda).toEqual(byId('LambdaImageChanges'));
  });
});
