// One status line on stderr while an evaluation runs past half a second; only on a TTY.
// The closing line carries the elapsed time once: `done('done')` -> "devenv: evaluating /p: done (5.2s)".
export function startProgress(label: string): {done: (result: string) => void} {
  const tty = process.stderr.isTTY;
  const start = Date.now();
  let shown = false;
  const frames = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];
  let i = 0;
  const secs = () => ((Date.now() - start) / 1000).toFixed(1);
  const timer = tty
    ? setInterval(() => {
        if (Date.now() - start < 500) return;
        shown = true;
        process.stderr.write(`\r\x1b[K${frames[i++ % frames.length]} devenv: ${label} (${secs()}s)`);
      }, 100)
    : undefined;
  return {
    done(result: string) {
      if (timer) clearInterval(timer);
      if (shown) process.stderr.write(`\r\x1b[Kdevenv: ${label}: ${result} (${secs()}s)\n`);
    },
  };
}
