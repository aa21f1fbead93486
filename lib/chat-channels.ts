/**
 * Opt-in chat channels for the alerts: an Amazon Q Developer in chat applications (formerly AWS Chatbot) channel
 * configuration for Slack and/or Microsoft Teams, subscribed to the alert topic. The channel then shows each alert
 * in its chat form (the `https` key of the SNS message; see lambda/adapters/sns.ts) and the alarms.
 *
 * Least privilege: a channel that only receives notifications needs no AWS permission. Its role trusts only the
 * chat service and has no policy; its guardrail (the most any channel member may do through it) denies every
 * action, because without `GuardrailPolicies` the service applies `AdministratorAccess`
 * (https://docs.aws.amazon.com/cdk/api/v2/docs/aws-cdk-lib.aws_chatbot.SlackChannelConfigurationProps.html,
 * `guardrailPolicies`). `UserRoleRequired: false`: nobody's own role is asked for either.
 *
 * The topic's key: SNS decrypts a message of an encrypted topic before it delivers it to a subscription
 * endpoint, and the chat service is an HTTPS subscriber, so the key policy needs nothing for it
 * (https://docs.aws.amazon.com/sns/latest/dg/sns-server-side-encryption.html). Only publishers of an encrypted
 * topic (the functions, the alarms) need the key.
 */
import { Names } from 'aws-cdk-lib';
import * as chatbot from 'aws-cdk-lib/aws-chatbot';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';

/** A Slack channel in a workspace already authorized in the Amazon Q Developer console. */
export interface DigestGuardSlackChannel {
  /** The workspace id the console shows once the workspace is authorized (`T…`). */
  readonly workspaceId: string;
  /** The channel id (the last part of the channel's link, e.g. `C0123ABCDE`). */
  readonly channelId: string;
}

/** A Microsoft Teams channel of a team already authorized in the Amazon Q Developer console. */
export interface DigestGuardTeamsChannel {
  /** The team id (a UUID). */
  readonly teamId: string;
  /** The channel id, URL-encoded as the console shows it (`19%3a…%40thread.tacv2`). */
  readonly channelId: string;
  /** The Microsoft Entra tenant id (a UUID). */
  readonly tenantId: string;
}

/** Where chat alerts go; each channel is optional. */
export interface DigestGuardChatChannels {
  /** @default - no Slack channel */
  readonly slack?: DigestGuardSlackChannel;
  /** @default - no Teams channel */
  readonly teams?: DigestGuardTeamsChannel;
}

/** The channel configurations created; each undefined when not asked for. */
export interface ChatChannelConfigurations {
  readonly slack?: chatbot.CfnSlackChannelConfiguration;
  readonly teams?: chatbot.CfnMicrosoftTeamsChannelConfiguration;
}

/** Creates the configurations asked for in a construct `Chat` of `scope`, subscribed to `topic`. */
export function createChatChannels(
  scope: Construct,
  channels: DigestGuardChatChannels | undefined,
  topic: sns.ITopic,
): ChatChannelConfigurations {
  if (!channels?.slack && !channels?.teams) return {};
  const chat = new Construct(scope, 'Chat');
  const role = new iam.Role(chat, 'ChannelRole', {
    assumedBy: new iam.ServicePrincipal('chatbot.amazonaws.com'),
    description: 'ECR digest guard chat channel: receives alerts only, may do nothing',
  });
  const guardrail = new iam.ManagedPolicy(chat, 'DenyAllGuardrail', {
    description: 'Guardrail of the ECR digest guard chat channels: notifications need no permission',
    statements: [new iam.PolicyStatement({ effect: iam.Effect.DENY, actions: ['*'], resources: ['*'] })],
  });
  // Configuration names are unique per account (at most 128 of `[A-Za-z0-9-_]`): derived from the construct path.
  const nameOf = (platform: string) =>
    `${Names.uniqueResourceName(chat, { maxLength: 128 - platform.length - 1, separator: '-' })}-${platform}`;
  const common = {
    iamRoleArn: role.roleArn,
    snsTopicArns: [topic.topicArn],
    guardrailPolicies: [guardrail.managedPolicyArn],
    loggingLevel: 'ERROR',
    userRoleRequired: false,
  };
  const result: { -readonly [K in keyof ChatChannelConfigurations]: ChatChannelConfigurations[K] } = {};
  if (channels.slack) {
    const slack = new chatbot.CfnSlackChannelConfiguration(chat, 'Slack', {
      ...common,
      configurationName: nameOf('Slack'),
      slackWorkspaceId: channels.slack.workspaceId,
      slackChannelId: channels.slack.channelId,
    });
    result.slack = slack;
  }
  if (channels.teams) {
    const teams = new chatbot.CfnMicrosoftTeamsChannelConfiguration(chat, 'Teams', {
      ...common,
      configurationName: nameOf('Teams'),
      teamId: channels.teams.teamId,
      teamsChannelId: channels.teams.channelId,
      teamsTenantId: channels.teams.tenantId,
    });
    result.teams = teams;
  }
  return result;
}
