/**
 * Runs the CLI in process against simulated accounts (one per region) through the real SDK clients: only the
 * wire and the credentials are replaced. CloudFormation is not simulated: each test says what `DescribeStacks`
 * answers, through `aws-sdk-client-mock` on the client the CLI is given.
 */
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { ECRClient } from '@aws-sdk/client-ecr';
import { ECSClient } from '@aws-sdk/client-ecs';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { SNSClient } from '@aws-sdk/client-sns';
import { mockClient } from 'aws-sdk-client-mock';
import type { AwsAccess, RegionClients } from '../../../cli/aws';
import { runCli } from '../../../cli/main';
import type { SimulatedAccount } from '../../../sim/account';

export interface CliRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export interface CliOnSimOptions {
  /** the guard stack's outputs per region; a region not listed has no stack */
  readonly stacks?: Readonly<Record<string, Readonly<Record<string, string>>>>;
  /** what the person answers to the confirmation; undefined: no terminal to ask on */
  readonly answer?: boolean;
  /** SDK attempts per call @default 3 */
  readonly maxAttempts?: number;
}

/** The AWS access the CLI gets: each region is the simulated account of that region. */
export function simAccess(accounts: readonly SimulatedAccount[], options: CliOnSimOptions = {}): AwsAccess {
  const byRegion = new Map(accounts.map((account) => [account.region, account]));
  return {
    defaultRegion: async () => accounts[0]!.region,
    enabledRegions: async () => [...byRegion.keys()],
    clientsFor: async ({ region }): Promise<RegionClients> => {
      const account = byRegion.get(region);
      if (!account) throw new Error(`no simulated account in ${region}`);
      const config = account.clientConfig({ maxAttempts: options.maxAttempts ?? 3 });
      const cloudformation = new CloudFormationClient({ region, credentials: config.credentials });
      const stack = options.stacks?.[region];
      const mock = mockClient(cloudformation);
      if (stack) {
        mock.on(DescribeStacksCommand).resolves({
          Stacks: [
            {
              StackName: 'EcrDigestGuard',
              StackStatus: 'CREATE_COMPLETE',
              CreationTime: new Date(),
              Outputs: Object.entries(stack).map(([OutputKey, OutputValue]) => ({ OutputKey, OutputValue })),
            },
          ],
        });
      } else {
        // What CloudFormation answers for a stack that does not exist.
        mock
          .on(DescribeStacksCommand)
          .rejects(
            Object.assign(new Error('Stack with id EcrDigestGuard does not exist'), { name: 'ValidationError' }),
          );
      }
      return {
        account: account.accountId,
        region,
        ecr: new ECRClient(config),
        ecs: new ECSClient(config),
        lambda: new LambdaClient(config),
        sns: new SNSClient(config),
        cloudformation,
      };
    },
  };
}

export async function runCliOnSim(
  argv: readonly string[],
  accounts: readonly SimulatedAccount[],
  options: CliOnSimOptions = {},
): Promise<CliRun> {
  let stdout = '';
  let stderr = '';
  const code = await runCli(argv, {
    io: {
      out: (text) => {
        stdout += text;
      },
      err: (text) => {
        stderr += text;
      },
      stderrIsTTY: false,
      stdinIsTTY: options.answer !== undefined,
      confirm: async () => options.answer ?? false,
    },
    aws: simAccess(accounts, options),
  });
  return { code, stdout, stderr };
}
