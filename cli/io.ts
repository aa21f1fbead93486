/** What the CLI's commands are given: where to write, whether a person is there to ask, and how to reach AWS. */
import type { AwsAccess } from './aws';

export interface CliIo {
  /** the report: text or JSON */
  out(text: string): void;
  /** progress, errors, questions */
  err(text: string): void;
  readonly stderrIsTTY: boolean;
  /** a person can answer a question */
  readonly stdinIsTTY: boolean;
  /** asks a yes/no question; only called when `stdinIsTTY` */
  confirm(question: string): Promise<boolean>;
}

export interface CliDependencies {
  readonly io: CliIo;
  readonly aws: AwsAccess;
  readonly now?: () => Date;
}
