// What the CLI says when it is used wrongly, and that README's tables tell what the commands do.
// Runs the built bin/run.js; no nix is involved (parsing fails before any work).
import {afterAll, beforeAll, describe, expect, test} from '@jest/globals';
import {readFileSync} from 'node:fs';
import {join} from 'node:path';
import {ExitCode} from '../../src/errors.js';
import {makeSandbox, REPO, type Sandbox} from '../helpers/env.js';

interface ManifestCommand {
  id: string;
  aliases: string[];
  summary?: string;
  description?: string;
  enableJsonFlag?: boolean;
  flags: Record<string, {char?: string; name: string; hidden?: boolean}>;
  args: Record<string, {required?: boolean}>;
}
const manifest = JSON.parse(readFileSync(join(REPO, 'oclif.manifest.json'), 'utf8')) as {commands: Record<string, ManifestCommand>};
const commands = Object.values(manifest.commands);
const README = readFileSync(join(REPO, 'README.md'), 'utf8');

let sb: Sandbox;
beforeAll(() => {
  sb = makeSandbox('devenv-cli-');
});
afterAll(() => sb.cleanup());

const JSON_KEYS = ['error', 'exitCode', 'hint', 'message', 'ok'];

/** A usage error: exit 2, one short message with a hint, no oclif internals, no stack. */
function expectUsageError(args: string[], json: boolean, message: RegExp) {
  const r = sb.devenv(json ? [...args, '--json'] : args);
  const what = `devenv ${args.join(' ')}${json ? ' --json' : ''}`;
  expect([what, r.status]).toEqual([what, 2]);
  if (json) {
    expect([what, r.stdout.length < 1000]).toEqual([what, true]);
    const out = JSON.parse(r.stdout);
    expect([what, Object.keys(out).sort()]).toEqual([what, JSON_KEYS]);
    expect([what, out.ok, out.error, out.exitCode]).toEqual([what, false, 'usage', 2]);
    expect([what, out.message]).toEqual([what, expect.stringMatching(message)]);
    expect([what, out.hint]).toEqual([what, expect.stringContaining('--help')]);
    expect([what, r.stderr]).toEqual([what, '']);
  } else {
    expect([what, r.stdout]).toEqual([what, '']);
    expect([what, r.stderr]).toEqual([what, expect.stringMatching(message)]);
    expect([what, r.stderr]).toEqual([what, expect.stringMatching(/^devenv: [^\n]+\n {2}hint: [^\n]*--help[^\n]*\n$/)]);
  }
}

describe('usage errors go through one presenter', () => {
  test('every command, given a bogus flag, exits 2 with one short message, with and without --json', () => {
    expect(commands.length).toBeGreaterThan(15);
    for (const c of commands) {
      const words = c.id.split(':');
      expectUsageError([...words, '--bogus'], false, /^devenv: unknown flag --bogus\n/);
      // A command without --json also calls --json unknown, still in the JSON shape asked for.
      expectUsageError([...words, '--bogus'], true, c.enableJsonFlag ? /^unknown flag --bogus$/ : /^unknown flags --bogus, --json$/);
    }
  });

  test('missing and extra arguments, unknown commands and bad option values', () => {
    for (const json of [false, true]) {
      expectUsageError(['add'], json, /missing argument: <package>/);
      expectUsageError(['templates', 'extra'], json, /unexpected argument: extra/);
      expectUsageError(['status', 'a', 'b'], json, /unexpected arguments: a b/);
      expectUsageError(['frobnicate'], json, /unknown command 'frobnicate'/);
      expectUsageError(['hook', 'tcsh'], json, /expected tcsh to be one of: bash, zsh, fish/);
      expectUsageError(['logs', '-n', 'many'], json, /--lines: /);
    }
  });

  test('--json after -- belongs to the command exec runs', () => {
    // Outside a project: the error is devenv's own, as text, since --json was not devenv's.
    const r = sb.devenv(['exec', '--', 'echo', '--json'], {cwd: '/'});
    expect(r.status).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^devenv: no devenv project here/);
  });

  test('a command error with --json has the same short shape', () => {
    const r = sb.devenv(['status', '--json'], {cwd: '/'});
    expect(r.status).toBe(1);
    const out = JSON.parse(r.stdout);
    expect(Object.keys(out).sort()).toEqual(JSON_KEYS);
    expect(out).toMatchObject({ok: false, error: 'not_a_project', exitCode: 1});
  });

  test('exec --help shows the command it runs', () => {
    const r = sb.devenv(['exec', '--help']);
    expect(r.stdout).toContain('$ devenv exec [--strict] -- <command> [args...]');
  });
});

describe('README tells what the commands do', () => {
  test("the exit-code table is src/errors.ts's ExitCode", () => {
    const rows = [...README.matchAll(/^\| (\d) \| ([^|]+) \|/gm)].map((m) => [Number(m[1]), m[2].toLowerCase()] as const);
    expect(rows.map(([n]) => n).sort()).toEqual(Object.values(ExitCode).map(Number).sort());
    for (const [name, code] of Object.entries(ExitCode)) {
      const words = name.replace(/([A-Z])/g, ' $1').toLowerCase();
      expect([name, rows.find(([n]) => n === code)?.[1]]).toEqual([name, expect.stringContaining(words)]);
    }
  });

  test('the command table names every command with exactly its flags', () => {
    const table = README.slice(README.indexOf('## Commands'), README.indexOf('\n\n', README.indexOf('| command |')));
    // Each backticked usage in the first column: `devenv up [-d] [--json]`, `deny [dir]`.
    const usages = new Map<string, string>();
    for (const row of table.split('\n').filter((l) => l.startsWith('| `'))) {
      for (const m of row.split(' | ')[0].matchAll(/`(?:devenv )?([a-z]+)([^`]*)`/g)) usages.set(m[1], m[2]);
    }
    for (const c of commands) {
      const usage = usages.get(c.id);
      expect([c.id, usage !== undefined]).toEqual([c.id, true]);
      const listed = new Set([...(usage ?? '').matchAll(/(?<![\w-])(--?[a-z][\w-]*)/g)].map((m) => m[1]));
      const real = new Set<string>();
      for (const f of Object.values(c.flags)) {
        if (f.hidden) continue;
        real.add(f.char ? `-${f.char}` : `--${f.name}`);
      }
      expect([c.id, [...listed].sort()]).toEqual([c.id, [...real].sort()]);
    }
  });

  test('help texts break lines only between sentences or before an indented block', () => {
    const bad: string[] = [];
    for (const c of commands) {
      for (const text of [c.summary ?? '', c.description ?? '']) {
        const lines = text.split('\n');
        for (let i = 0; i + 1 < lines.length; i++) {
          const [a, b] = [lines[i], lines[i + 1]];
          if (a === '' || b === '' || /[.:!?]$/.test(a) || /^\s/.test(b)) continue;
          bad.push(`${c.id}: "${a.slice(-30)}⏎${b.slice(0, 30)}"`);
        }
      }
    }
    expect(bad).toEqual([]);
  });
});
