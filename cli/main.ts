/**
 * The `ecr-digest-guard` command line: `audit` (read-only), `protect`, `test-alert`. `runCli` takes its output
 * streams and AWS access as arguments, so tests run it in process on the simulated account.
 * Exit codes: 0 nothing at risk; 1 something at risk (or a region could not be read); 2 could not run.
 */
import { Command, CommanderError, Option } from 'commander';
import { DEFAULT_TAG_PREFIX } from '../lambda/core/protective-tag';
import { describeError } from './audit/run';
import { runAudit } from './commands/audit';
import { runProtect } from './commands/protect';
import { runTestAlert } from './commands/test-alert';
import type { CliDependencies } from './io';
import { UsageError } from './options';
import { DEFAULT_STACK_NAME } from './stack';

export type { CliDependencies, CliIo } from './io';

const collect = (value: string, previous: string[]) => [...previous, value];

export async function runCli(argv: readonly string[], deps: CliDependencies): Promise<number> {
  let exitCode = 0;
  const program = new Command('ecr-digest-guard')
    .description('Find and protect in-use ECR image digests that a lifecycle policy could delete.')
    .exitOverride()
    .configureOutput({ writeOut: (text) => deps.io.out(text), writeErr: (text) => deps.io.err(text) })
    .showHelpAfterError('(add --help for usage)');

  const scopeOptions = (command: Command) =>
    command
      .addOption(
        new Option('--region <region>', 'a region to look at; repeat for several')
          .argParser(collect)
          .default([], 'the profile region'),
      )
      .option('--all-regions', 'every region enabled for the account (EC2 DescribeRegions)')
      .option('--profile <name>', 'the AWS profile whose credentials to use')
      .option('--role-arn <arn>', 'assume this role first; {account} is replaced by each of --accounts')
      .option('--accounts <ids>', 'comma-separated account ids, each reached through --role-arn')
      .option('--tag-prefix <prefix>', `prefix of the guard's protective tags (default: ${DEFAULT_TAG_PREFIX})`)
      .option('--quiet', 'no progress on stderr');

  scopeOptions(
    program
      .command('audit')
      .description('read-only: what is at risk now, and what the guard would do (exit 0 none, 1 at risk, 2 failed)'),
  )
    .option('--json', `the report as JSON (schema ecr-digest-guard/audit-report@1, cli/audit-report.schema.json)`)
    .option('--preview', "also run ECR's lifecycle policy preview as evidence where a rule is a risk")
    .action(async (options) => {
      exitCode = await runAudit(options, deps);
    });

  scopeOptions(
    program
      .command('protect')
      .description('audit, show the plan, ask, then add protective tags and restore archived in-use images'),
  )
    .option('--yes', 'apply without asking (needed when there is no terminal)')
    .option('--stack-name <name>', 'the guard stack to check for dry run and its tag prefix', DEFAULT_STACK_NAME)
    .option('--even-if-dry-run', 'protect even where the guard is deployed in dry run')
    .action(async (options) => {
      exitCode = await runProtect(options, deps);
    });

  program
    .command('test-alert')
    .description("publish a clearly marked test alert through the deployed guard's topic")
    .addOption(
      new Option('--region <region>', 'the region of the guard').argParser(collect).default([], 'the profile region'),
    )
    .option('--profile <name>', 'the AWS profile whose credentials to use')
    .option('--stack-name <name>', 'the guard stack whose AlertTopicArn output names the topic', DEFAULT_STACK_NAME)
    .option('--topic-arn <arn>', 'publish to this topic instead of reading the stack')
    .action(async (options) => {
      exitCode = await runTestAlert(options, deps);
    });

  try {
    await program.parseAsync([...argv], { from: 'user' });
    return exitCode;
  } catch (error) {
    // Commander has already written its own message (or the help it was asked for).
    if (error instanceof CommanderError) return error.exitCode === 0 ? 0 : 2;
    deps.io.err(`ecr-digest-guard: ${error instanceof UsageError ? error.message : describeError(error)}\n`);
    return 2;
  }
}
