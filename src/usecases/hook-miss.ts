// What node does when a shell's fast path could not decide (first entry, an edit, a block):
// check trust, find or build the environment, render activation scripts, and print shell code.
// Only the code goes to stdout; messages go to stderr.
import {join, sep} from 'node:path';
import {activationText, ensureTrustEpoch, removeActivations, renderActivations, shellActivationPath, trustEpochFile} from '../activation/render.js';
import {type CacheEntry, readEntry} from '../cache/entries.js';
import {keyFor} from '../cache/key.js';
import {readProjectState, updateProjectState} from '../cache/project-state.js';
import {ALLOW_HINT, DevenvError, isTransient} from '../errors.js';
import {strictFromEnv} from '../nix/nix.js';
import {tilde} from '../paths.js';
import {dotenvNames, setupInputNames} from '../project/dotenv.js';
import {CORE_FILES, findRoot, isProjectRoot} from '../project/find.js';
import {type InputDigest, oneListing, readInputs} from '../project/inputs.js';
import {warnFlakeDrift} from '../project/sync.js';
import {currentDir, projectAt} from '../project/project.js';
import {shellFor} from '../shells/index.js';
import type {Shell} from '../shells/shell.js';
import {changedSinceAllow, checkTrust, type TrustCheck} from '../trust/trust.js';
import {exists, StorageError} from '../util/fs.js';
import {refreshInBackground} from './refresh.js';
import {setupOnEntry} from './setup.js';

/** Why the hook does not load the project, naming exactly the inputs that changed since the allow. */
export function blockReason(root: string, trust: TrustCheck, inputs: InputDigest): string {
  if (trust.state === 'denied') return `is denied; ${ALLOW_HINT}`;
  if (trust.olderRule) return trust.olderRule;
  if (trust.state === 'changed') {
    const changed = changedSinceAllow(root, inputs);
    if (changed.length) return `changed since it was allowed (${changed.slice(0, 4).join(', ')}${changed.length > 4 ? ` and ${changed.length - 4} more` : ''}); run 'devenv allow' to trust the new content`;
    return "changed since it was allowed; run 'devenv allow' to trust the new content";
  }
  return `is not allowed; ${ALLOW_HINT}`;
}

function blockedCode(shell: Shell, root: string, message: string): string {
  const files = [...CORE_FILES, ...dotenvNames(root), ...setupInputNames(root)].map((f) => join(root, f));
  try {
    ensureTrustEpoch();
  } catch {}
  return shell.blocked([...files.filter(exists), trustEpochFile()], files.filter((f) => !exists(f)), message);
}

/** Render and load; when the state dir cannot be written, apply the script's text directly. */
async function loadCode(shell: Shell, root: string, entry: CacheEntry, digest: string | undefined, error?: string): Promise<string> {
  try {
    await renderActivations(root, entry, digest, error);
    return shell.load(shellActivationPath(root, shell.name));
  } catch (e) {
    if (!(e instanceof StorageError)) throw e;
    process.stderr.write(`devenv: ${e.message}; loading without saving the activation\n`);
    return shell.loadInline(await activationText(root, entry, shell.name, error));
  }
}

/**
 * After an error the miss path did not expect: block the project, so the shell waits for a
 * project file (or trust) to change instead of calling node, and printing it, on every prompt.
 */
export function blockedAfterError(shellName: string, root: string): string {
  return blockedCode(shellFor(shellName), root, 'devenv: will try again when a project file changes');
}

export function hookMiss(shellName: string, rootArg: string | undefined): Promise<string> {
  return oneListing(() => hookMissOnce(shellName, rootArg));
}

async function hookMissOnce(shellName: string, rootArg: string | undefined): Promise<string> {
  const shell = shellFor(shellName);
  // The shell's own root finding agrees with findRoot; a root it passes that devenv does not
  // count as a project (an older hook's ~/flake.nix) is looked up again.
  const root = rootArg && isProjectRoot(rootArg) ? rootArg : findRoot(currentDir());
  const loaded = process.env.DEVENV_ROOT || undefined;
  // Inside the loaded project, but a project of its own (nested).
  const nested = !!loaded && root !== null && root !== loaded && root.startsWith(loaded + sep);
  const out: string[] = [];
  if (!root) {
    if (loaded) out.push(shell.unload('devenv: unloading'));
    return out.join('\n');
  }
  // One read of the inputs serves the trust check, the cache key and the render; no nix
  // (not even --version) runs before trust is settled.
  const project = projectAt(root);
  const inputs = readInputs(project);
  const trust = checkTrust(root, inputs.digest);
  if (!trust.trusted) {
    removeActivations(root);
    const msg = `devenv: ${tilde(root)} ${blockReason(root, trust, inputs)}`;
    if (nested) {
      // Nested untrusted project: keep the trusted parent loaded (direnv#1493).
      out.push(blockedCode(shell, root, `${msg} (keeping ${tilde(loaded)} loaded)`));
    } else {
      if (loaded) out.push(shell.unload('devenv: unloading'));
      out.push(blockedCode(shell, root, msg));
    }
    return out.join('\n');
  }

  warnFlakeDrift(root);
  const key = keyFor(inputs).key;
  let hit = readEntry(key);
  // A hit evaluated for another checkout is this project's last good environment too (what a
  // later failed edit falls back to).
  if (hit.status === 'hit' && readProjectState(root).lastGoodKey !== key) {
    try {
      updateProjectState(root, {lastGoodKey: key, lastKey: key, lastError: undefined});
    } catch {}
  }
  let renderDigest: string | undefined = inputs.digest;
  let note: string | undefined;
  let error: string | undefined;
  if (hit.status !== 'hit') {
    const state = readProjectState(root);
    const good = state.lastGoodKey ? readEntry(state.lastGoodKey) : undefined;
    if (good?.status === 'hit' && !strictFromEnv()) {
      hit = good;
      if (state.lastError && state.lastKey === key) {
        // This content is known to fail: show the error (every shell, on loading), no re-run.
        error = state.lastError;
      } else {
        // Serve the last good environment now; the next prompt after the refresh loads the new one.
        note = `devenv: ${tilde(root)} changed; using the previous environment while it re-evaluates in the background`;
      }
    } else {
      try {
        const {ensureEnvironment} = await import('../evaluation/evaluate.js');
        const res = await ensureEnvironment(root, {progress: true, requireTrust: true});
        hit = {status: 'hit', entry: res.entry};
        // Evaluation may have regenerated flake.nix: check trust against what is there now.
        renderDigest = undefined;
      } catch (e) {
        const err = e as DevenvError;
        // Ctrl-C: hot.ts has said so already.
        if (isTransient(e) && process.exitCode === 130) return '';
        process.stderr.write(`devenv: could not load ${tilde(root)}: ${err.message}\n${err.hint ? `  hint: ${err.hint}\n` : ''}`);
        if (loaded && loaded !== root && !nested) out.push(shell.unload('devenv: unloading'));
        // Interrupted or killed: try again at the next prompt; a content error waits for an edit.
        if (isTransient(e)) out.push(shell.retry());
        else out.push(blockedCode(shell, root, `devenv: fix the error above and save; devenv retries when a file changes`));
        return out.join('\n');
      }
    }
  }
  try {
    out.push(await loadCode(shell, root, hit.entry, renderDigest, error));
  } catch (e) {
    // A malformed dotenv file (or another activation-time fault): say where, keep watching.
    const err = e as DevenvError;
    process.stderr.write(`devenv: could not load ${tilde(root)}: ${err.message}\n${err.hint ? `  hint: ${err.hint}\n` : ''}`);
    removeActivations(root);
    if (loaded && loaded !== root && !nested) out.push(shell.unload('devenv: unloading'));
    out.push(blockedCode(shell, root, `devenv: fix the error above and save; devenv retries when a file changes`));
    return out.join('\n');
  }
  // Only after rendering the old env: a refresh that finished first would be overwritten by it.
  if (note) refreshInBackground(root);
  if (note) out.push(shell.say(note));
  for (const line of setupOnEntry(root, hit.entry.spec)) out.push(shell.say(line));
  return out.join('\n');
}

