/** The `ecr-digest-guard` command (started by bin/ecr-digest-guard.cjs): the real terminal and AWS credentials. */
import { createInterface } from 'node:readline/promises';
import { awsAccess } from '../cli/aws';
import { runCli } from '../cli/main';

async function confirm(question: string): Promise<boolean> {
  const readline = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return /^y(es)?$/i.test((await readline.question(question)).trim());
  } finally {
    readline.close();
  }
}

runCli(process.argv.slice(2), {
  io: {
    out: (text) => void process.stdout.write(text),
    err: (text) => void process.stderr.write(text),
    stderrIsTTY: Boolean(process.stderr.isTTY),
    stdinIsTTY: Boolean(process.stdin.isTTY),
    confirm,
  },
  aws: awsAccess(),
}).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`ecr-digest-guard: ${String(error)}\n`);
    process.exitCode = 2;
  },
);
