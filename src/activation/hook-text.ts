// `devenv hook <shell>`: what every new terminal runs, so it stays on the hot path (no oclif,
// no package): paths, one private directory for the stamps, and the generated text.
import {fileURLToPath} from 'node:url';
import {DevenvError} from '../errors.js';
import {stampDirs, stateDir, trustEpochPath} from '../paths.js';
import {shellFor} from '../shells/index.js';
import {ensurePrivateDir, writeFileAtomic} from '../util/fs.js';
import {cacheName, hookKey} from './hook-cache.js';

/** The first candidate stamp dir that is (or can be made) private to us; problems with the others are returned. */
function stampDir(): {dir?: string; problems: string[]} {
  const problems: string[] = [];
  for (const [base, ...parts] of stampDirs()) {
    try {
      return {dir: ensurePrivateDir(base, ...parts), problems};
    } catch (e) {
      problems.push(e instanceof DevenvError ? e.message : `cannot create ${[base, ...parts].join('/')}: ${(e as Error).message}`);
    }
  }
  return {problems};
}

/** The hook for a shell, with absolute paths so the prompt path never searches PATH. */
export function hookText(shell: string): string {
  const sh = shellFor(shell);
  const {dir, problems} = stampDir();
  // A planted directory is worth one line even at shell start; with no safe place at all the
  // hook refuses rather than write where another user could point it.
  const said = problems.map((p) => sh.say(`devenv: ${p}`));
  if (!dir) return [...said, sh.say('devenv: no private directory for the shell hook; nothing was loaded')].join('\n');
  const text = [
    ...said,
    sh.hook({
      devenvBin: fileURLToPath(new URL('../../bin/run.js', import.meta.url)),
      nodeBin: process.execPath,
      stateDir: stateDir(),
      stampDir: dir,
      trustEpochFile: trustEpochPath(),
    }),
  ].join('\n') + '\n';
  try {
    // For the next terminal: bin/run.js prints it without loading this module (hook-cache.ts).
    writeFileAtomic(`${dir}/${cacheName(shell)}`, `${hookKey(shell, fileURLToPath(new URL('..', import.meta.url)))}\n${text}`, 0o600);
  } catch {}
  return text;
}
