/**
 * The typed configuration of one deployment, and how it is read from CDK context
 * (`cdk synth -c alertEmail=ops@example.com -c repositories=app,api -c dryRun=true`).
 */
import { emailProblem, repositoryNameProblem, splitList, tagPrefixProblem } from './validation';

export interface DigestGuardConfig {
  /** Who receives alerts and alarms (at least one address). */
  readonly alertEmails: readonly string[];
  /** Prefix of the protective tags; the construct's default when absent. */
  readonly tagPrefix?: string;
  /** Repositories in scope; empty = every repository of the account and region. */
  readonly repositories: readonly string[];
  /** Detect and alert only. */
  readonly dryRun: boolean;
}

/** The context keys the app reads. */
export const CONTEXT_KEYS = {
  alertEmail: 'alertEmail',
  tagPrefix: 'tagPrefix',
  repositories: 'repositories',
  dryRun: 'dryRun',
} as const;

/** Thrown with every problem found, one per line, so a user fixes them in one pass. */
export class ConfigError extends Error {
  constructor(public readonly problems: readonly string[]) {
    super(`Invalid ecr-digest-guard configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigError';
  }
}

/**
 * Reads and validates the configuration. `read` is `app.node.tryGetContext`: values from `-c key=value`
 * arrive as strings, values from cdk.json may be strings, arrays or booleans; both are accepted.
 * @throws ConfigError listing every problem
 */
export function configFromContext(read: (key: string) => unknown): DigestGuardConfig {
  const problems: string[] = [];

  const alertEmails = listValue(read(CONTEXT_KEYS.alertEmail), CONTEXT_KEYS.alertEmail, problems);
  if (alertEmails.length === 0 && !problems.some((p) => p.startsWith(CONTEXT_KEYS.alertEmail))) {
    problems.push(
      `${CONTEXT_KEYS.alertEmail} is required: pass -c ${CONTEXT_KEYS.alertEmail}=ops@example.com (comma-separate several)`,
    );
  }
  for (const address of alertEmails) {
    const problem = emailProblem(address);
    if (problem) problems.push(`${CONTEXT_KEYS.alertEmail}: ${problem}`);
  }

  const rawPrefix = read(CONTEXT_KEYS.tagPrefix);
  let tagPrefix: string | undefined;
  if (rawPrefix !== undefined) {
    if (typeof rawPrefix !== 'string') {
      problems.push(`${CONTEXT_KEYS.tagPrefix} must be a string, got ${JSON.stringify(rawPrefix)}`);
    } else {
      tagPrefix = rawPrefix.trim();
      const problem = tagPrefixProblem(tagPrefix);
      if (problem) problems.push(`${CONTEXT_KEYS.tagPrefix}: ${problem}`);
    }
  }

  const repositories = listValue(read(CONTEXT_KEYS.repositories), CONTEXT_KEYS.repositories, problems);
  for (const name of repositories) {
    const problem = repositoryNameProblem(name);
    if (problem) problems.push(`${CONTEXT_KEYS.repositories}: ${problem}`);
  }

  const dryRun = booleanValue(read(CONTEXT_KEYS.dryRun), CONTEXT_KEYS.dryRun, problems);

  if (problems.length > 0) {
    throw new ConfigError(problems);
  }
  return { alertEmails, ...(tagPrefix !== undefined ? { tagPrefix } : {}), repositories, dryRun };
}

function listValue(raw: unknown, key: string, problems: string[]): string[] {
  if (raw === undefined || raw === null) return [];
  if (typeof raw === 'string') return splitList(raw);
  if (Array.isArray(raw) && raw.every((item) => typeof item === 'string')) {
    return raw.flatMap((item: string) => splitList(item));
  }
  problems.push(`${key} must be a comma-separated string or a list of strings, got ${JSON.stringify(raw)}`);
  return [];
}

function booleanValue(raw: unknown, key: string, problems: string[]): boolean {
  if (raw === undefined || raw === null) return false;
  if (typeof raw === 'boolean') return raw;
  if (typeof raw === 'string') {
    const normalized = raw.trim().toLowerCase();
    if (normalized === 'true') return true;
    if (normalized === 'false') return false;
  }
  problems.push(`${key} must be true or false, got ${JSON.stringify(raw)}`);
  return false;
}
