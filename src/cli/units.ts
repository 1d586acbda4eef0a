// How services, processes and tasks report to the terminal: shared by up, run and test.
import type {StartResult, TaskResult, UpIO} from '../usecases/services.js';

export function describeStart(r: StartResult): string {
  const where = r.port ? ` on port ${r.port}` : '';
  const head = r.started
    ? `${r.name}: started (pid ${r.pid})${where}, ready in ${((r.readyMs ?? 0) / 1000).toFixed(2)}s`
    : `${r.name}: already running (pid ${r.pid})${where}`;
  return [head + (r.url ? `, ${r.url}` : ''), ...r.steps.map((s) => `  ${s}`)].join('\n');
}

export function describeTask(r: TaskResult): string {
  if (r.skipped) return `${r.name}: skipped, ${r.reason}`;
  return `${r.name}: ${r.exitCode === 0 ? 'done' : `failed (exit code ${r.exitCode})`} in ${(r.ms / 1000).toFixed(2)}s`;
}

/** Coloured prefixes on a terminal, unless NO_COLOR; FORCE_COLOR forces them. */
export const wantColour = (): boolean => (process.env.FORCE_COLOR ? process.env.FORCE_COLOR !== '0' : !!process.stdout.isTTY && !process.env.NO_COLOR);

/** devenv's own notes go to stderr, silenced under --json. */
export const noteWriter =
  (json: boolean) =>
  (n: string): void => {
    if (!json) process.stderr.write(`devenv: ${n}\n`);
  };

/**
 * Output for a command that runs units in the foreground of a task (run, test): log lines on
 * stdout, starts and task results as notes; nothing but the final JSON under --json.
 */
export function foregroundIo(json: boolean): UpIO {
  const note = noteWriter(json);
  return {
    line: (l: string) => {
      if (!json) process.stdout.write(l + '\n');
    },
    note,
    started: (r: StartResult) => note(describeStart(r)),
    task: (r: TaskResult) => note(describeTask(r)),
    colour: wantColour(),
  };
}
