/**
 * The chat form of an alert (Amazon Q Developer in chat applications custom notification), made from the alert
 * as it is delivered. Schema: https://docs.aws.amazon.com/chatbot/latest/adminguide/custom-notifs.html
 */
import { describe, expect, it } from 'vitest';
import { buildRepositoryAlert, type RepositoryReport } from '../../../lambda/core/alert';
import {
  CHAT_DESCRIPTION_MAX_CHARS,
  CHAT_IMAGES_LISTED,
  CHAT_TITLE_MAX_CHARS,
  toChatNotification,
} from '../../../lambda/core/alert-chat';
import { buildReconcileFailureAlert } from '../../../lambda/core/alert-reconcile';
import { withFullList } from '../../../lambda/core/alert-size';
import type { Consumer } from '../../../lambda/core/types';
import { chatSchemaProblems } from '../../support/chat-schema';

const ACCOUNT = '111122223333';
const LOG_GROUP = '/aws/lambda/guard-Push';
const d = (i: number) => `sha256:${i.toString(16).padStart(64, '0')}`;
const service = (name: string): Consumer => ({
  kind: 'ecs-service',
  cluster: 'prod',
  service: name,
  container: 'app',
  image: `${ACCOUNT}.dkr.ecr.eu-west-1.amazonaws.com/team/app:prod`,
});
const report = (overrides: Partial<RepositoryReport> = {}): RepositoryReport => ({
  account: ACCOUNT,
  region: 'eu-west-1',
  repository: 'team/app',
  dryRun: false,
  tagPrefix: 'digest-guard',
  pushes: [],
  protected: [],
  gone: [],
  archived: [],
  restores: [],
  refused: [],
  gaps: [],
  ...overrides,
});
const delivered = (r: RepositoryReport) => withFullList(buildRepositoryAlert(r)!, LOG_GROUP);

describe('the chat form of an alert', () => {
  it('given an in-use image that was deleted, when the alert is made, then its chat form follows the documented schema', () => {
    const alert = delivered(report({ gone: [{ digest: d(1), consumers: [service('web')] }] }));

    const chat = toChatNotification(alert);

    expect(chatSchemaProblems(chat)).toEqual([]);
    expect(chat).toMatchObject({ version: '1.0', source: 'custom', content: { textType: 'client-markdown' } });
    expect(chat.id).toBe(alert.fullList.alertId);
  });

  it('given an alert for a repository, when the chat form is made, then it threads per repository, files under the most urgent event and is found by severity and repository', () => {
    const alert = delivered(
      report({
        gone: [{ digest: d(1), consumers: [service('web')] }],
        protected: [{ digest: d(2), tag: 'digest-guard-sha256-x', how: 'tagged', consumers: [service('api')] }],
      }),
    );
    expect(alert.events).toEqual(['protected', 'digest-gone']);

    const chat = toChatNotification(alert);

    expect(chat.metadata.threadId).toBe(`${ACCOUNT}/eu-west-1/team/app`);
    expect(chat.metadata.eventType).toBe('digest-gone');
    expect(chat.content.keywords).toEqual(['CRITICAL', 'team/app']);
    expect(chat.metadata.summary).toBe(alert.subject);
    expect(chat.metadata.additionalContext).toMatchObject({ alertId: alert.fullList.alertId, logGroup: LOG_GROUP });
  });

  it('given an alert, when the chat form is made, then the title is the subject with its severity, within the subject length', () => {
    const alert = delivered(report({ gone: [{ digest: d(1), consumers: [service('web')] }] }));

    const long = delivered(
      report({ repository: `team/${'x'.repeat(200)}/app`, gone: [{ digest: d(1), consumers: [service('web')] }] }),
    );

    expect(toChatNotification(alert).content.title).toBe(`:rotating_light: ${alert.subject}`);
    const title = toChatNotification(long).content.title;
    expect(title.length).toBeLessThanOrEqual(CHAT_TITLE_MAX_CHARS);
    expect(title).toBe(`:rotating_light: ${long.subject}`);
    expect(title.endsWith('/app')).toBe(true);
  });

  it('given 300 protected images used by 5 workloads each, when the chat form is made, then it gives the counts, the first images, how many more and where the full list is, and stays short', () => {
    const alert = delivered(
      report({
        repository: `platform-team/${'shared/'.repeat(33)}payments-api`,
        protected: Array.from({ length: 300 }, (_, i) => ({
          digest: d(i),
          tag: `digest-guard-sha256-${d(i).slice(7)}`,
          how: 'tagged' as const,
          consumers: Array.from({ length: 5 }, (__, c) => service(`svc-${i}-${c}`)),
        })),
      }),
    );

    const { description } = toChatNotification(alert).content;

    expect(description).toContain('In this alert: 300 protected.');
    for (let i = 0; i < CHAT_IMAGES_LISTED; i++) expect(description).toContain(`\`${d(i)}\` protected`);
    expect(description).not.toContain(d(CHAT_IMAGES_LISTED));
    expect(description).toContain(`- ... and ${300 - CHAT_IMAGES_LISTED} more images`);
    expect(description).toContain('ECS service prod/svc-0-0');
    expect(description).toContain('and 4 more workloads');
    expect(description).toContain(`log group \`${LOG_GROUP}\`, alert \`${alert.fullList.alertId}\``);
    expect(description).toContain(alert.fullList.query);
    expect(description.length).toBeLessThanOrEqual(CHAT_DESCRIPTION_MAX_CHARS);
  });

  it('given the alert says what to do, when the chat form is made, then its next steps are those bullets, each on one line', () => {
    const alert = delivered(report({ gone: [{ digest: d(1), consumers: [service('web')] }] }));

    const { nextSteps } = toChatNotification(alert).content;

    expect(nextSteps[0]).toMatch(/^NOW: redeploy the workloads above to an image that exists/);
    expect(nextSteps.some((step) => step.includes('one tag per build') && step.includes('immutable'))).toBe(true);
    expect(nextSteps.every((step) => !step.includes('\n'))).toBe(true);
  });

  it('given a dry run, when the chat form is made, then it says nothing was changed', () => {
    const alert = delivered(
      report({
        dryRun: true,
        protected: [{ digest: d(2), tag: 'digest-guard-sha256-x', how: 'would-tag', consumers: [service('api')] }],
      }),
    );

    expect(toChatNotification(alert).content.description).toContain('(dry run: nothing was changed)');
  });

  it('given an alert about no single repository, when the chat form is made, then it still follows the schema and threads per account and region', () => {
    const alert = withFullList(
      buildReconcileFailureAlert({ account: ACCOUNT, region: 'eu-west-1' } as never, [
        { repository: 'team/app', error: new Error('AccessDenied') },
      ]),
      LOG_GROUP,
    );

    const chat = toChatNotification(alert);

    expect(chatSchemaProblems(chat)).toEqual([]);
    expect(chat.metadata.threadId).toBe(`${ACCOUNT}/eu-west-1/account`);
    expect(chat.content.keywords).toEqual(['WARNING']);
    expect(chat.metadata.eventType).toBe('reconcile-failed');
  });
});
