/**
 * The deployed guard, as its CloudFormation stack's outputs describe it (`AlertTopicArn`, `DryRun`, `TagPrefix`,
 * see lib/digest-guard-stack.ts). A stack that does not exist is an answer, not a failure: `DescribeStacks`
 * answers `ValidationError` "Stack with id … does not exist".
 * See: https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_DescribeStacks.html
 */
import { type CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';

export const DEFAULT_STACK_NAME = 'EcrDigestGuard';

export type GuardStack =
  | { readonly found: true; readonly outputs: Readonly<Record<string, string>> }
  | { readonly found: false };

export async function readGuardStack(client: CloudFormationClient, stackName: string): Promise<GuardStack> {
  try {
    const { Stacks } = await client.send(new DescribeStacksCommand({ StackName: stackName }));
    const stack = Stacks?.[0];
    if (!stack) return { found: false };
    const outputs: Record<string, string> = {};
    for (const output of stack.Outputs ?? [])
      if (output.OutputKey && output.OutputValue !== undefined) outputs[output.OutputKey] = output.OutputValue;
    return { found: true, outputs };
  } catch (error) {
    if (error instanceof Error && error.name === 'ValidationError' && /does not exist/.test(error.message))
      return { found: false };
    throw error;
  }
}
