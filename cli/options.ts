/**
 * The options `audit` and `protect` share, checked before any AWS call: every problem is a `UsageError`, which
 * the CLI prints as one line and exits 2 with.
 */
import type { AwsAccess, TargetScope } from './aws';

export class UsageError extends Error {
  override readonly name = 'UsageError';
}

export interface ScopeOptions {
  readonly region?: readonly string[];
  readonly allRegions?: boolean;
  readonly profile?: string;
  readonly roleArn?: string;
  readonly accounts?: string;
}

/** The role ARN with `{account}` replaced, per account; or the caller's own credentials. */
export function accountRoles(options: ScopeOptions): (string | undefined)[] {
  const accounts = options.accounts?.split(',').map((a) => a.trim());
  if (accounts && !options.roleArn)
    throw new UsageError('--accounts needs --role-arn (e.g. arn:aws:iam::{account}:role/EcrDigestGuardAudit)');
  for (const account of accounts ?? [])
    if (!/^\d{12}$/.test(account)) throw new UsageError(`--accounts: "${account}" is not an account id of 12 digits`);
  if (options.roleArn?.includes('{account}') && !accounts)
    throw new UsageError('--role-arn with {account} needs --accounts 111122223333,444455556666');
  if (accounts && accounts.length > 1 && !options.roleArn?.includes('{account}'))
    throw new UsageError('several --accounts need {account} in --role-arn, where each account id goes');
  if (!accounts) return [options.roleArn];
  return accounts.map((account) => options.roleArn!.replaceAll('{account}', account));
}

export function checkRegions(options: ScopeOptions): void {
  if (options.region?.length && options.allRegions) throw new UsageError('give either --region or --all-regions');
  for (const region of options.region ?? [])
    if (!/^[a-z]{2}(-[a-z]+)+-\d+$/.test(region)) throw new UsageError(`--region: "${region}" is not a region name`);
}

/** Every (role, region) to look at. */
export async function resolveScopes(options: ScopeOptions, aws: AwsAccess): Promise<TargetScope[]> {
  checkRegions(options);
  const roles = accountRoles(options);
  const base = { ...(options.profile ? { profile: options.profile } : {}) };
  const home = options.region?.length ? undefined : await homeRegion(aws, options.profile);
  const scopes: TargetScope[] = [];
  for (const roleArn of roles) {
    const role = roleArn ? { roleArn } : {};
    const regions = options.region?.length
      ? options.region
      : options.allRegions
        ? await aws.enabledRegions({ ...base, ...role, region: home! })
        : [home!];
    for (const region of [...new Set(regions)]) scopes.push({ ...base, ...role, region });
  }
  return scopes;
}

async function homeRegion(aws: AwsAccess, profile: string | undefined): Promise<string> {
  try {
    return await aws.defaultRegion(profile);
  } catch {
    throw new UsageError('no region: pass --region (or --all-regions), or set one in your AWS profile');
  }
}
