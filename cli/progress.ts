/**
 * Progress on stderr for long scans: a spinner when stderr is a terminal, nothing otherwise (pipes, CI, `--json`,
 * `--quiet`), so stdout stays the report alone.
 */
export interface Progress {
  update(text: string): void;
  stop(): void;
}

const SILENT: Progress = { update: () => undefined, stop: () => undefined };

export async function startProgress(enabled: boolean, text: string): Promise<Progress> {
  if (!enabled) return SILENT;
  // yocto-spinner is an ES module; a dynamic import loads it from this CommonJS build.
  const { default: yoctoSpinner } = await import('yocto-spinner');
  const spinner = yoctoSpinner({ text, stream: process.stderr }).start();
  return {
    update: (next) => {
      spinner.text = next;
    },
    stop: () => void spinner.stop(),
  };
}
