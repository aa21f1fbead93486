/**
 * Opt-in chat channels: Amazon Q Developer in chat applications (formerly AWS Chatbot) channel configurations
 * subscribed to the alert topic, for Slack and Microsoft Teams, from construct props or CDK context.
 * Resource types: AWS::Chatbot::SlackChannelConfiguration, AWS::Chatbot::MicrosoftTeamsChannelConfiguration
 * (https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-chatbot-slackchannelconfiguration.html).
 */
import { Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, configFromContext } from '../../lib/config';
import { type DigestGuardConfig, DigestGuardStack } from '../../lib/digest-guard-stack';
import {
  appLikeCli,
  logicalIdOf,
  problemsOf,
  SKIP_BUNDLING,
  type SynthesizedGuard,
  synthesizeGuard,
} from '../support/cdk-app';

const SLACK = { workspaceId: 'T0123ABCD', channelId: 'C0123ABCDE' };
const TEAMS = {
  teamId: '01234567-89ab-cdef-0123-456789abcdef',
  tenantId: 'fedcba98-7654-3210-fedc-ba9876543210',
  channelId: '19%3ab6ef35dc342d40a1a6b7ef0c5d5f1fe3%40thread.tacv2',
};

describe('chat channels for the alerts', () => {
  let both: SynthesizedGuard;
  beforeAll(() => {
    both = synthesizeGuard(
      { alertEmails: ['ops@example.com'], chat: { slack: SLACK, teams: TEAMS } },
      { bundle: false, stackId: 'Chat' },
    );
  });

  it('given no chat settings, when the guard is synthesized, then it creates no chat channel configuration', () => {
    const { template } = synthesizeGuard({ alertEmails: ['ops@example.com'] }, { bundle: false, stackId: 'NoChat' });

    expect(Object.keys(template.findResources('AWS::Chatbot::SlackChannelConfiguration'))).toEqual([]);
    expect(Object.keys(template.findResources('AWS::Chatbot::MicrosoftTeamsChannelConfiguration'))).toEqual([]);
  });

  it('given a Slack workspace and channel, when the guard is synthesized, then a Slack channel configuration receives the alert topic, logging errors only', () => {
    const { template, stack, guard } = both;

    template.hasResourceProperties('AWS::Chatbot::SlackChannelConfiguration', {
      SlackWorkspaceId: SLACK.workspaceId,
      SlackChannelId: SLACK.channelId,
      SnsTopicArns: [{ Ref: logicalIdOf(stack, guard.topic) }],
      LoggingLevel: 'ERROR',
      UserRoleRequired: false,
    });
  });

  it('given a Teams team, tenant and channel, when the guard is synthesized, then a Teams channel configuration receives the alert topic, logging errors only', () => {
    const { template, stack, guard } = both;

    template.hasResourceProperties('AWS::Chatbot::MicrosoftTeamsChannelConfiguration', {
      TeamId: TEAMS.teamId,
      TeamsTenantId: TEAMS.tenantId,
      TeamsChannelId: TEAMS.channelId,
      SnsTopicArns: [{ Ref: logicalIdOf(stack, guard.topic) }],
      LoggingLevel: 'ERROR',
      UserRoleRequired: false,
    });
  });

  it('given chat channels, when the guard is synthesized, then the channel role has no permission and the guardrail denies every action', () => {
    // Without GuardrailPolicies the service applies AdministratorAccess as the channel's guardrail (CDK docs of
    // SlackChannelConfigurationProps.guardrailPolicies); notifications need no permission at all.
    const { template } = both;
    const configs = [
      ...Object.values(template.findResources('AWS::Chatbot::SlackChannelConfiguration')),
      ...Object.values(template.findResources('AWS::Chatbot::MicrosoftTeamsChannelConfiguration')),
    ] as { Properties: { IamRoleArn: { 'Fn::GetAtt': [string, string] }; GuardrailPolicies: { Ref: string }[] } }[];
    expect(configs).toHaveLength(2);

    const roles = template.findResources('AWS::IAM::Role');
    const policies = template.findResources('AWS::IAM::ManagedPolicy');
    for (const { Properties } of configs) {
      const roleId = Properties.IamRoleArn['Fn::GetAtt'][0];
      const role = roles[roleId] as { Properties: Record<string, any> };
      expect(role.Properties.AssumeRolePolicyDocument.Statement).toEqual([
        { Action: 'sts:AssumeRole', Effect: 'Allow', Principal: { Service: 'chatbot.amazonaws.com' } },
      ]);
      expect(role.Properties.ManagedPolicyArns ?? []).toEqual([]);
      expect(role.Properties.Policies ?? []).toEqual([]);
      const attached = Object.values(template.findResources('AWS::IAM::Policy')).filter((p) =>
        JSON.stringify((p as { Properties: { Roles: unknown[] } }).Properties.Roles).includes(`"${roleId}"`),
      );
      expect(attached).toEqual([]);

      expect(Properties.GuardrailPolicies).toHaveLength(1);
      const guardrail = policies[Properties.GuardrailPolicies[0]!.Ref] as { Properties: Record<string, any> };
      expect(guardrail.Properties.PolicyDocument.Statement).toEqual([{ Effect: 'Deny', Action: '*', Resource: '*' }]);
    }
  });

  it('given half a Slack or Teams setting, when the construct is built, then every missing or malformed id is named', () => {
    expect(problemsOf({ chat: { slack: { workspaceId: 'T0123ABCD', channelId: '' } } })).toEqual([
      'chat.slack.channelId must be the Slack channel id (letters and digits, 1 to 255 characters), got ""',
    ]);
    expect(
      problemsOf({ chat: { teams: { ...TEAMS, tenantId: 'not-a-uuid', channelId: '19:abc@thread.tacv2' } } }),
    ).toEqual([
      'chat.teams.channelId must be the Teams channel id as Amazon Q Developer shows it, URL-encoded ' +
        '(…%3a…%40…), got "19:abc@thread.tacv2"',
      'chat.teams.tenantId must be the Microsoft Entra tenant id (a UUID), got "not-a-uuid"',
    ]);
  });

  it('given -c slackWorkspaceId and -c slackChannelId, when the app reads its context, then the stack gets a Slack channel', () => {
    const context: Record<string, string> = {
      alertEmail: 'ops@example.com',
      slackWorkspaceId: SLACK.workspaceId,
      slackChannelId: SLACK.channelId,
    };
    const config = configFromContext((key) => context[key], { keys: Object.keys(context) });
    expect(config.chat).toEqual({ slack: SLACK });

    const stack = new DigestGuardStack(appLikeCli(SKIP_BUNDLING), 'EcrDigestGuard', { config });
    Template.fromStack(stack).resourceCountIs('AWS::Chatbot::SlackChannelConfiguration', 1);
  });

  it('given only -c slackWorkspaceId, or a misspelt key, when the app reads its context, then it names what is missing and what was meant', () => {
    const context: Record<string, string> = {
      alertEmail: 'ops@example.com',
      slackWorkspaceId: SLACK.workspaceId,
      slackChanelId: SLACK.channelId,
    };
    let problems: readonly string[] = [];
    try {
      configFromContext((key) => context[key], { keys: Object.keys(context) });
    } catch (error) {
      if (error instanceof ConfigError) problems = error.problems;
    }

    expect(problems).toEqual([
      'slackChanelId is not a setting of this app; did you mean slackChannelId?',
      'slackWorkspaceId and slackChannelId go together: give both, or neither',
    ]);
  });

  it('given chat channels, when cdk-nag checks the stack, then it finds nothing unacknowledged', () => {
    const config: DigestGuardConfig = {
      alertEmails: ['ops@example.com'],
      repositories: [],
      dryRun: false,
      chat: { slack: SLACK, teams: TEAMS },
    };
    const stack = new DigestGuardStack(appLikeCli(SKIP_BUNDLING), 'EcrDigestGuard', {
      config,
      env: { account: '111122223333', region: 'eu-west-1' },
    });

    const report = new AwsSolutionsChecks().validateScope(stack);
    expect(report.violations.map((v) => v.ruleName)).toEqual([]);
  });
});
