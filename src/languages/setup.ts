// Language setup: the project's .venv (made with the environment's Python, remade when that
// Python changes), `pip install -r <requirements>` when the requirements' content changes, and
// the node install command when the lock file's content changes. It runs outside the prompt
// (the hook starts `__setup` detached; exec waits for it), one at a time per project (a lock),
// and records what it did in the user's state dir: the digest of what was installed last, and
// a failure with the tool's output (shown once, then kept for `status`). A failure keeps the
// last good venv / node_modules. Built-ins only at import (exec's warm path).
import type {Project} from '../project/project.js';
import {spawn} from 'node:child_process';
import {createHash} from 'node:crypto';
import {lstatSync, readFileSync, rmSync, statSync} from 'node:fs';
import {homedir} from 'node:os';
import {join} from 'node:path';
import type {EnvSpec} from '../env/spec.js';
import {activationConfig, NODE_LOCKS, POETRY_FILES} from '../project/dotenv.js';
import {VENV_DIR} from '../project/languages.js';
import {readJson, writeFileAtomic, withLock, exists} from '../util/fs.js';
import {pidAlive} from '../util/proc.js';

export type StepName = 'venv' | 'requirements' | 'poetry' | 'node';

export interface SetupState {
  /** The python3 the venv was made with. */
  python?: string;
  /** Digest of the requirements last installed successfully. */
  requirements?: string;
  /** Digest of pyproject.toml + poetry.lock last installed successfully. */
  poetry?: string;
  /** Digest of package.json + lock last installed successfully. */
  node?: string;
  running?: {pid: number; since: string; steps: StepName[]};
  failed?: {step: StepName; digest: string; at: string; output: string; shown?: boolean};
  lastOk?: string;
}

const stateFile = (p: Project) => join(p.stateDir, 'setup.json');
const lockFile = (p: Project) => join(p.stateDir, 'setup.lock');
export const setupLog = (p: Project): string => join(p.stateDir, 'setup.log');

export const readSetupState = (p: Project): SetupState => readJson<SetupState>(stateFile(p)) ?? {};
const writeState = (p: Project, s: SetupState) => writeFileAtomic(stateFile(p), JSON.stringify(s, null, 2) + '\n');

const sha = (parts: (string | null)[]) => createHash('sha256').update(JSON.stringify(parts)).digest('hex');
const readOrNull = (f: string): string | null => {
  try {
    return readFileSync(f, 'utf8');
  } catch {
    return null;
  }
};

/** A program on the env's own PATH entries (store paths), the first one. */
function envTool(spec: EnvSpec, name: string): string | undefined {
  for (const dir of spec.prepend.PATH ?? []) {
    const p = join(dir, name);
    try {
      if (statSync(p).isFile()) return p;
    } catch {}
  }
  return undefined;
}

/** The environment's python3. */
export const envPython = (spec: EnvSpec): string | undefined => envTool(spec, 'python3');

const poetryDigest = (root: string, python: string | undefined): string => sha([python ?? '', 'poetry', ...POETRY_FILES.map((f) => readOrNull(join(root, f)))]);

/** An npm config value (`key=value`) from the user's, then the machine's npmrc, as npm reads it. */
function npmConfig(env: NodeJS.ProcessEnv, key: string): string | undefined {
  const fromEnv = env[`npm_config_${key}`] ?? env[`NPM_CONFIG_${key.toUpperCase()}`];
  if (fromEnv) return fromEnv;
  for (const f of [env.NPM_CONFIG_USERCONFIG ?? join(homedir(), '.npmrc'), env.NPM_CONFIG_GLOBALCONFIG ?? '/etc/npmrc']) {
    const m = new RegExp(`^\\s*${key}\\s*=\\s*(.+?)\\s*$`, 'm').exec(readOrNull(f) ?? '');
    if (m) return m[1];
  }
  return undefined;
}

/**
 * pnpm and yarn through the environment's corepack, when the environment has no such command:
 * its downloads cached in the user's cache dir (never the project or the store), from the
 * registry npm uses, trusting the CA npm is configured with. It never pins a version into
 * package.json (that is the project's file, and part of trust) nor asks before downloading.
 */
export function corepackCommand(cmd: string[], spec: EnvSpec, env: NodeJS.ProcessEnv): string[] {
  if (cmd[0] === 'npm' || envTool(spec, cmd[0])) return cmd;
  const corepack = envTool(spec, 'corepack');
  if (!corepack) return cmd;
  const cache = env.XDG_CACHE_HOME && env.XDG_CACHE_HOME.startsWith('/') ? env.XDG_CACHE_HOME : join(homedir(), '.cache');
  env.COREPACK_HOME ||= join(cache, 'node', 'corepack');
  env.COREPACK_ENABLE_DOWNLOAD_PROMPT = '0';
  env.COREPACK_ENABLE_AUTO_PIN = '0';
  const registry = npmConfig(env, 'registry');
  if (registry && !env.COREPACK_NPM_REGISTRY) env.COREPACK_NPM_REGISTRY = registry.replace(/\/+$/, '');
  const ca = npmConfig(env, 'cafile');
  if (ca && !env.NODE_EXTRA_CA_CERTS) env.NODE_EXTRA_CA_CERTS = ca;
  return [corepack, ...cmd];
}

interface Plan {
  steps: StepName[];
  python?: string;
  reqDigest?: string;
  poetryDigest?: string;
  nodeDigest?: string;
}

/** What setup would do now (empty steps: nothing). Reads a few small files, starts nothing. */
export function setupPlan(p: Project, spec: EnvSpec): Plan {
  const root = p.root;
  const c = activationConfig(p);
  const st = readSetupState(p);
  const plan: Plan = {steps: []};
  const sameFailure = (step: StepName, digest: string) => st.failed?.step === step && st.failed.digest === digest;
  if (c.python?.venv) {
    plan.python = envPython(spec);
    const venvOk = plan.python && st.python === plan.python && exists(join(root, VENV_DIR, 'pyvenv.cfg'));
    if (plan.python && !venvOk && !sameFailure('venv', plan.python)) plan.steps.push('venv');
    if (c.python.requirements) {
      const text = readOrNull(join(root, c.python.requirements));
      if (text !== null) {
        plan.reqDigest = sha([plan.python ?? '', c.python.requirements, text]);
        if ((!venvOk || st.requirements !== plan.reqDigest) && !sameFailure('requirements', plan.reqDigest)) plan.steps.push('requirements');
      }
    }
    if (c.python.manager === 'poetry' && exists(join(root, 'pyproject.toml'))) {
      plan.poetryDigest = poetryDigest(root, plan.python);
      if ((!venvOk || st.poetry !== plan.poetryDigest) && !sameFailure('poetry', plan.poetryDigest)) plan.steps.push('poetry');
    }
  }
  if (c.node?.install) {
    const lock = NODE_LOCKS[c.node.install.split(' ')[0]];
    const pkg = readOrNull(join(root, 'package.json'));
    if (pkg !== null) {
      plan.nodeDigest = sha([c.node.install, pkg, readOrNull(join(root, lock))]);
      // A deleted node_modules is installed again, whatever the digest says.
      if ((st.node !== plan.nodeDigest || !exists(join(root, 'node_modules'))) && !sameFailure('node', plan.nodeDigest)) plan.steps.push('node');
    }
  }
  return plan;
}

export function markRunning(p: Project, pid: number, steps: StepName[]): void {
  writeState(p, {...readSetupState(p), running: {pid, since: new Date().toISOString(), steps}});
}

/** The setup that is running now, if any (its pid is alive). */
export function runningSetup(p: Project): SetupState['running'] | undefined {
  const r = readSetupState(p).running;
  return r && pidAlive(r.pid) ? r : undefined;
}

export const describeSteps = (steps: StepName[], p: Project): string => {
  const c = activationConfig(p);
  return steps
    .map((s) => (s === 'venv' ? `creating ${VENV_DIR}` : s === 'requirements' ? `pip install -r ${c.python?.requirements}` : s === 'poetry' ? 'poetry install' : (c.node?.install ?? 'node install')))
    .join(', ');
};

/** Run one command; output goes to `sink` and the tail is kept for the failure record. */
function run(cmd: string[], opts: {cwd: string; env: NodeJS.ProcessEnv; sink: (b: Buffer) => void}): Promise<{code: number; output: string}> {
  return new Promise((resolve) => {
    let tail = '';
    const child = spawn(cmd[0], cmd.slice(1), {cwd: opts.cwd, env: opts.env, stdio: ['ignore', 'pipe', 'pipe']});
    const take = (b: Buffer) => {
      opts.sink(b);
      tail = (tail + b.toString('utf8')).slice(-8000);
    };
    child.stdout.on('data', take);
    child.stderr.on('data', take);
    child.on('error', (e) => resolve({code: 127, output: `${cmd[0]}: ${e.message}`}));
    child.on('close', (code) => resolve({code: code ?? 1, output: tail}));
  });
}

/** The lines of pip/npm output that say what went wrong (errors first, else the last lines). */
function errorSummary(output: string): string {
  const lines = output.split('\n').map((l) => l.trimEnd()).filter(Boolean);
  const errs = lines.filter((l) => /^(ERROR|error|npm ERR!|npm error|E:|Error)/.test(l));
  return (errs.length ? errs : lines.slice(-6)).slice(0, 12).join('\n');
}

export interface SetupResult {
  ran: StepName[];
  failed?: {step: StepName; output: string};
}

/**
 * Bring the project's setup up to date, under the project's setup lock (waiting for one that
 * runs already, then re-planning). `spec` is the evaluated one (its python3 makes the venv);
 * `projectEnv`, the project's whole environment as a process env (services/environment.ts),
 * which the tools run in. `sink` receives the tools' output.
 */
export async function runSetup(p: Project, spec: EnvSpec, projectEnv: NodeJS.ProcessEnv, sink: (b: Buffer) => void, onWait?: () => void): Promise<SetupResult> {
  const root = p.root;
  return withLock(lockFile(p), async () => {
    const plan = setupPlan(p, spec);
    if (!plan.steps.length) return {ran: []};
    const st = readSetupState(p);
    st.running = {pid: process.pid, since: new Date().toISOString(), steps: plan.steps};
    writeState(p, st);
    const c = activationConfig(p);
    const env: NodeJS.ProcessEnv = {...projectEnv, PIP_DISABLE_PIP_VERSION_CHECK: '1', PIP_NO_INPUT: '1'};
    delete env.PYTHONHOME;
    const ran: StepName[] = [];
    const fail = (step: StepName, digest: string, output: string): SetupResult => {
      st.failed = {step, digest, at: new Date().toISOString(), output: errorSummary(output) || `${step} failed`};
      return {ran, failed: {step, output: st.failed.output}};
    };
    try {
      for (const step of plan.steps) {
        if (step === 'venv') {
          const dir = join(root, VENV_DIR);
          let isLink = false;
          let isVenv = false;
          try {
            isLink = lstatSync(dir).isSymbolicLink();
            isVenv = exists(join(dir, 'pyvenv.cfg'));
            if (isLink || !isVenv) return fail('venv', plan.python!, `${VENV_DIR} exists and is not a virtualenv devenv can replace; move it away`);
          } catch {}
          // Made with another Python (or half made): a venv cannot change its interpreter in place.
          if (isVenv) rmSync(dir, {recursive: true, force: true});
          const r = await run([plan.python!, '-m', 'venv', dir], {cwd: root, env, sink});
          if (r.code !== 0) return fail('venv', plan.python!, r.output);
          st.python = plan.python;
          st.requirements = undefined;
          st.poetry = undefined;
        } else if (step === 'requirements') {
          const req = c.python!.requirements!;
          const args = req.endsWith('pyproject.toml') ? ['-e', join(root, req, '..')] : ['-r', join(root, req)];
          const r = await run([join(root, VENV_DIR, 'bin', 'python'), '-m', 'pip', 'install', ...args], {cwd: root, env, sink});
          if (r.code !== 0) return fail('requirements', plan.reqDigest!, r.output);
          st.requirements = plan.reqDigest;
        } else if (step === 'poetry') {
          const poetry = envTool(spec, 'poetry');
          if (!poetry) return fail('poetry', plan.poetryDigest!, "poetry is not in the project's environment: run 'devenv update' (manager = \"poetry\" adds it)");
          // Into .venv (VIRTUAL_ENV, set above), never a virtualenv of poetry's own; no keyring (no D-Bus here).
          const penv = {...env, POETRY_VIRTUALENVS_CREATE: 'false', POETRY_VIRTUALENVS_IN_PROJECT: 'true', PYTHON_KEYRING_BACKEND: 'keyring.backends.null.Keyring'};
          const r = await run([poetry, 'install', '--no-interaction', '--no-ansi'], {cwd: root, env: penv, sink});
          if (r.code !== 0) return fail('poetry', plan.poetryDigest!, r.output);
          // Digested after: an install without a lock writes one, and that is what was installed.
          st.poetry = poetryDigest(root, plan.python);
        } else {
          const r = await run(corepackCommand(c.node!.install!.split(' '), spec, env), {cwd: root, env, sink});
          if (r.code !== 0) return fail('node', plan.nodeDigest!, r.output);
          st.node = plan.nodeDigest;
        }
        ran.push(step);
        if (st.failed?.step === step) st.failed = undefined;
      }
      st.lastOk = new Date().toISOString();
      return {ran};
    } finally {
      st.running = undefined;
      writeState(p, st);
    }
  }, onWait);
}

/** What a recorded setup made that is gone now (a deleted .venv or node_modules): it is not done. */
export function missingSetup(p: Project): string[] {
  const root = p.root;
  const c = activationConfig(p);
  const st = readSetupState(p);
  const out: string[] = [];
  if (c.python?.venv && st.python && !exists(join(root, VENV_DIR, 'pyvenv.cfg'))) out.push(VENV_DIR);
  if (c.node?.install && st.node && !exists(join(root, 'node_modules'))) out.push('node_modules');
  return out;
}

/** A failure not yet shown to the user: returned once, then marked shown. */
export function takeUnshownFailure(p: Project): SetupState['failed'] | undefined {
  const st = readSetupState(p);
  if (!st.failed || st.failed.shown) return undefined;
  const f = st.failed;
  st.failed = {...f, shown: true};
  writeState(p, st);
  return f;
}
