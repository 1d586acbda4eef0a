// TAB completion in real bash, zsh and fish (tmux): commands, topic subcommands (nested ones
// too), flags, template names for init, the project's packages for remove, and its services,
// processes and tasks for up/down/logs/run (each command only what it accepts); a TAB starts
// no node. Every word offered is data: names planted with $(…), backticks, `;` and globs in a
// never-allowed project run nothing in any shell and are offered as written.
import {afterAll, beforeAll, describe, expect, test} from '@jest/globals';
import {spawnSync} from 'node:child_process';
import {mkdirSync, readdirSync, writeFileSync} from 'node:fs';
import {join} from 'node:path';
import {DEVENV, makeSandbox, type Sandbox} from '../helpers/env.js';
import {ShellSession, type ShellKind, shq, waitUntil} from '../helpers/tmux.js';

let sb: Sandbox;
let proj: string;
let hostile: string;
// Names a cloned repository could plant; each would create a file in the project if run.
const PLANTED = ['q$(touch${IFS}RAN-1)', 'r`touch${IFS}RAN-2`', 's;touch${IFS}RAN-3', 't*', 'u?$(touch${IFS}RAN-4)'];

beforeAll(() => {
  sb = makeSandbox('devenv-complete-');
  proj = join(sb.dir, 'proj');
  mkdirSync(proj);
  writeFileSync(
    join(proj, 'devenv.toml'),
    [
      'name = "proj"',
      'packages = [\n  "jq",  # json\n  "ripgrep",\n]',
      '[services.postgres]\nversion = 15',
      '[processes.web]\nexec = "python -m http.server"',
      '[processes.web.env]\nPORT = "8000"',
      '[processes."worker"]\nexec = "sleep 1000"',
      '[tasks.migrate]\nexec = "true"',
      '[tasks.seed-db]\nexec = "true"\nafter = ["migrate"]',
      '# [tasks.commented]',
      '[env]\nNOT_A_TASK = "[tasks.fake]"',
      '',
    ].join('\n\n'),
  );
  // Never allowed: completion reads its devenv.toml anyway (it is text, not code).
  hostile = join(sb.dir, 'hostile');
  mkdirSync(hostile);
  writeFileSync(join(hostile, 'tfile'), ''); // what the glob `t*` would match
  writeFileSync(
    join(hostile, 'devenv.toml'),
    [
      `packages = [${PLANTED.map((w) => JSON.stringify(w)).join(', ')}]`,
      ...PLANTED.map((w, i) => `[tasks.${JSON.stringify(`k${i}${w}`)}]\nexec = "true"`),
      ...PLANTED.map((w, i) => `[processes.${JSON.stringify(`p${i}${w}`)}]\nexec = "true"`),
      ...PLANTED.map((w, i) => `[services.${JSON.stringify(`v${i}${w}`)}]`),
      '',
    ].join('\n\n'),
  );
  for (const s of ['bash', 'zsh', 'fish']) {
    const r = spawnSync(process.execPath, [DEVENV, 'autocomplete', s], {encoding: 'utf8', env: sb.env});
    if (r.status !== 0) throw new Error(r.stderr);
    writeFileSync(join(sb.dir, `complete.${s}`), r.stdout);
  }
});
afterAll(() => sb?.cleanup());

for (const kind of ['bash', 'zsh', 'fish'] as ShellKind[]) {
  describe(`${kind} TAB`, () => {
    let sh: ShellSession;
    beforeAll(() => {
      const script = join(sb.dir, `complete.${kind}`);
      sh = ShellSession.start(kind, {env: {...sb.env, LANG: 'C.UTF-8'}, dir: join(sb.dir, `session-${kind}`), cwd: sb.dir, before: kind === 'fish' ? `source ${shq(kind, script)}` : `source ${shq(kind, script)}`});
    }, 60_000);
    afterAll(() => sh?.close());

    /** Type `text`, press TAB, wait for the line to read `expected`, then clear it. */
    const tab = (text: string, expected: RegExp) => {
      const calls = sh.nodeCalls().length;
      const mark = sh.pane().split('\n').length;
      sh.keys('-l', text);
      sh.keys('Tab');
      waitUntil(() => expected.test(sh.pane().split('\n').slice(mark - 1).join('\n')), 10_000, `${expected} after TAB`, () => sh.debug());
      sh.keys('C-u');
      expect(sh.run('')).toBe('');
      expect(sh.nodeCalls().length).toBe(calls);
    };

    test('commands, topic subcommands, flags and templates', () => {
      tab('devenv rem', /\$ devenv remove\s*$/m);
      tab('devenv services lo', /\$ devenv services logs\s*$/m);
      tab('devenv add --fo', /\$ devenv add --force\s*$/m);
      tab('devenv init python-p', /\$ devenv init python-postgres\s*$/m);
      tab('devenv autocomplete fi', /\$ devenv autocomplete fish\s*$/m);
      // A topic inside a topic: cache key generate.
      tab('devenv cache k', /\$ devenv cache key\s*$/m);
      tab('devenv cache key gen', /\$ devenv cache key generate\s*$/m);
      tab('devenv cache key generate --na', /\$ devenv cache key generate --name\s*$/m);
    });

    test('generate completes its targets, github-action too', () => {
      tab('devenv generate gi', /\$ devenv generate github-action\s*$/m);
    });

    test('names planted in a never-allowed devenv.toml are offered as data and run nothing', () => {
      sh.run(`cd ${shq(kind, hostile)}`);
      // Each planted package completes from its first letter (the shell may quote what it inserts).
      for (const w of PLANTED) tab(`devenv remove ${w[0]}`, new RegExp(`\\$ devenv remove ${w[0]}\\S*(touch|\\*)`, 'm'));
      for (const line of ['devenv run k', 'devenv up p', 'devenv logs v', 'devenv down v1']) {
        const calls = sh.nodeCalls().length;
        sh.keys('-l', line);
        sh.keys('Tab');
        sh.keys('Tab');
        sh.keys('C-u');
        expect(sh.run('')).toBe('');
        expect(sh.nodeCalls().length).toBe(calls);
      }
      expect(readdirSync(hostile).sort()).toEqual(['devenv.toml', 'tfile']);
      sh.run(`cd ${shq(kind, sb.dir)}`);
    });

    test("remove completes the project's packages (from devenv.toml), logs its services", () => {
      sh.run(`cd ${shq(kind, proj)}`);
      tab('devenv remove rip', /\$ devenv remove ripgrep\s*$/m);
      tab('devenv remove j', /\$ devenv remove jq\s*$/m);
      tab('devenv logs po', /\$ devenv logs postgres\s*$/m);
      sh.run(`cd ${shq(kind, sb.dir)}`);
    });

    test('run completes tasks, up/down processes and services, logs all three (from a subdirectory too)', () => {
      const sub = join(proj, 'src');
      mkdirSync(sub, {recursive: true});
      sh.run(`cd ${shq(kind, sub)}`);
      tab('devenv run mi', /\$ devenv run migrate\s*$/m);
      tab('devenv run se', /\$ devenv run seed-db\s*$/m);
      tab('devenv up we', /\$ devenv up web\s*$/m);
      tab('devenv down wo', /\$ devenv down worker\s*$/m);
      tab('devenv services up wo', /\$ devenv services up worker\s*$/m);
      tab('devenv logs seed', /\$ devenv logs seed-db\s*$/m);
      sh.run(`cd ${shq(kind, sb.dir)}`);
    });
  });
}

const bashWords = (cwd: string, ...line: string[]) => {
  const script = `source ${shq('bash', join(sb.dir, 'complete.bash'))}; COMP_WORDS=(${line.map((w) => shq('bash', w)).join(' ')}); COMP_CWORD=${line.length - 1}; _devenv; printf '%s\\n' "\${COMPREPLY[@]}"`;
  const r = spawnSync('bash', ['--norc', '-c', script], {cwd, encoding: 'utf8'});
  return r.stdout.split('\n').filter((w) => w && !w.startsWith('-'));
};

test('planted names are offered exactly as written, never expanded or globbed (bash function, as zsh uses it)', () => {
  expect(bashWords(hostile, 'devenv', 'remove', '')).toEqual(PLANTED);
  expect(bashWords(hostile, 'devenv', 'remove', 't')).toEqual(['t*']);
  // Unit names are cut at the first character a name cannot have.
  expect(bashWords(hostile, 'devenv', 'run', '')).toEqual(['k0q', 'k1r', 'k2s', 'k3t', 'k4u']);
  expect(bashWords(hostile, 'devenv', 'generate', '')).toEqual(['flake', 'envrc', 'vscode', 'github-action', 'devcontainer']);
  expect(readdirSync(hostile).sort()).toEqual(['devenv.toml', 'tfile']);
});

test('each command is offered exactly the names it accepts (bash function, as zsh uses it)', () => {
  const words = (...line: string[]) => bashWords(proj, ...line);
  expect(words('devenv', 'run', '')).toEqual(['migrate', 'seed-db']);
  expect(words('devenv', 'up', '')).toEqual(['postgres', 'web', 'worker']);
  expect(words('devenv', 'down', '')).toEqual(['postgres', 'web', 'worker']);
  expect(words('devenv', 'logs', '')).toEqual(['postgres', 'web', 'worker', 'migrate', 'seed-db']);
  expect(words('devenv', 'remove', '')).toEqual(['jq', 'ripgrep']);
  expect(words('devenv', 'run', 'po')).toEqual([]);
});
