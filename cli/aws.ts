/**
 * How the CLI reaches AWS: SDK clients per (credentials, region), made by one factory so tests hand the CLI the
 * simulated account's clients instead. Credentials are the caller's own (the SDK's default chain, or a named
 * `--profile`), or a role assumed from them with `fromTemporaryCredentials` (`--role-arn`).
 * See: https://docs.aws.amazon.com/sdk-for-javascript/v3/developer-guide/setting-credentials-node.html
 */
import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { ECRClient } from '@aws-sdk/client-ecr';
import { ECSClient } from '@aws-sdk/client-ecs';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { SNSClient } from '@aws-sdk/client-sns';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { fromIni, fromTemporaryCredentials } from '@aws-sdk/credential-providers';
import { SDK_CLIENT_CONFIG } from '../lambda/adapters/clients';

/** Where to look: one region, with the caller's credentials or a role assumed from them. */
export interface TargetScope {
  readonly region: string;
  readonly profile?: string;
  /** a role to assume (read-only for `audit`) in the account to look at */
  readonly roleArn?: string;
}

/** The clients of one account and region, and which account they reach. */
export interface RegionClients {
  readonly account: string;
  readonly region: string;
  readonly ecr: ECRClient;
  readonly ecs: ECSClient;
  readonly lambda: LambdaClient;
  readonly sns: SNSClient;
  readonly cloudformation: CloudFormationClient;
}

export interface AwsAccess {
  /** the region the profile (or the environment) names; throws when none is set */
  defaultRegion(profile?: string): Promise<string>;
  /** the regions enabled for the account the scope reaches */
  enabledRegions(scope: TargetScope): Promise<string[]>;
  clientsFor(scope: TargetScope): Promise<RegionClients>;
}

/** A session name CloudTrail shows for every call made through an assumed role. */
const ROLE_SESSION_NAME = 'ecr-digest-guard-cli';

export function awsAccess(): AwsAccess {
  const configFor = (scope: TargetScope) => {
    const credentials = scope.roleArn
      ? fromTemporaryCredentials({
          params: { RoleArn: scope.roleArn, RoleSessionName: ROLE_SESSION_NAME },
          clientConfig: { region: scope.region },
          ...(scope.profile ? { masterCredentials: fromIni({ profile: scope.profile }) } : {}),
        })
      : undefined;
    return {
      ...SDK_CLIENT_CONFIG,
      region: scope.region,
      ...(scope.profile && !credentials ? { profile: scope.profile } : {}),
      ...(credentials ? { credentials } : {}),
    };
  };
  return {
    async defaultRegion(profile) {
      const client = new STSClient(profile ? { profile } : {});
      return client.config.region();
    },
    async enabledRegions(scope) {
      // DescribeRegions without AllRegions lists the regions enabled for the account: opt-in regions the
      // account has not enabled would only answer with an authentication error.
      // See: https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DescribeRegions.html
      // The EC2 client is large and only --all-regions needs it: loaded on first use.
      const { DescribeRegionsCommand, EC2Client } = await import('@aws-sdk/client-ec2');
      const { Regions } = await new EC2Client(configFor(scope)).send(new DescribeRegionsCommand({}));
      return (Regions ?? []).flatMap((r) => (r.RegionName ? [r.RegionName] : [])).sort();
    },
    async clientsFor(scope) {
      const config = configFor(scope);
      const { Account } = await new STSClient(config).send(new GetCallerIdentityCommand({}));
      if (!Account) throw new Error('STS GetCallerIdentity named no account');
      return {
        account: Account,
        region: scope.region,
        ecr: new ECRClient(config),
        ecs: new ECSClient(config),
        lambda: new LambdaClient(config),
        sns: new SNSClient(config),
        cloudformation: new CloudFormationClient(config),
      };
    },
  };
}
