// Processes as the tests see them, from /proc: is a pid alive (zombies are dead), and which
// processes belong to a directory (work in it or name it), e.g. a project's servers.
import {readdirSync, readFileSync, readlinkSync} from 'node:fs';

/** A live, non-zombie pid. */
export function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z');
  } catch {
    return false;
  }
}

/** Live (non-zombie) processes other than this one working in, or naming, a directory (also one deleted meanwhile). */
export function processesOf(dir: string): number[] {
  const out: number[] = [];
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e) || Number(e) === process.pid || !alive(Number(e))) continue;
    try {
      let cwd = '';
      try {
        cwd = readlinkSync(`/proc/${e}/cwd`).replace(/ \(deleted\)$/, '');
      } catch {}
      const cmd = readFileSync(`/proc/${e}/cmdline`, 'utf8');
      if (cwd === dir || cwd.startsWith(dir + '/') || cmd.includes(dir)) out.push(Number(e));
    } catch {}
  }
  return out;
}

