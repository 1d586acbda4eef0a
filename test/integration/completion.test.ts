// TAB completion in real bash, zsh and fish (tmux): commands, topic subcommands, flags,
// template names for init, and the project's packages for remove; a TAB starts no node.
import {afterAll, beforeAll, describe, expect, test} from '@jest/globals';
import {spawnSync} from 'node:child_process';
import {mkdirSync, writeFileSync} from 'node:fs';
import {join} from 'node:path';
import {DEVENV, makeSandbox, type Sandbox} from '../helpers/env.js';
import {ShellSession, type ShellKind, shq, waitUntil} from '../helpers/tmux.js';

let sb: Sandbox;
let proj: string;

beforeAll(() => {
  sb = makeSandbox('devenv-complete-');
  proj = join(sb.dir, 'proj');
  mkdirSync(proj);
  writeFileSync(join(proj, 'devenv.toml'), 'name = "proj"\npackages = [\n  "jq",  # json\n  "ripgrep",\n]\n\n[services.postgres]\nversion = 15\n');
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
    });

    test("remove completes the project's packages (from devenv.toml), logs its services", () => {
      sh.run(`cd ${shq(kind, proj)}`);
      tab('devenv remove rip', /\$ devenv remove ripgrep\s*$/m);
      tab('devenv remove j', /\$ devenv remove jq\s*$/m);
      tab('devenv logs po', /\$ devenv logs postgres\s*$/m);
      sh.run(`cd ${shq(kind, sb.dir)}`);
    });
  });
}
