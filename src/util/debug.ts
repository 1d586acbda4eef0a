// DEVENV_DEBUG=1 prints timed steps on stderr: where did the time go?
const on = !!process.env.DEVENV_DEBUG;
const t0 = performance.now();
export function debug(msg: string): void {
  if (on) process.stderr.write(`devenv[debug +${(performance.now() - t0).toFixed(0)}ms] ${msg}\n`);
}
