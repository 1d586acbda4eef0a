// What the CLI says when it is used wrongly, and that README's tables tell what the commands do.
// Runs the built bin/run.js; no nix is involved (parsing fails before any work).
import {afterAll, beforeAll, describe, expect, test} from '@jest/globals';
import {spawn} from 'node:child_process';
import {existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync} from 'node:fs';
import {join} from 'node:path';
import {ExitCode} from '../../src/errors.js';
import {DEVENV, makeSandbox, REPO, type Sandbox} from '../helpers/env.js';

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

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Run devenv asynchronously, a few at a time (each run loads oclif: ~0.5 s of CPU). */
async function runMany(argvs: string[][], width = 3): Promise<Run[]> {
  const out: Run[] = [];
  let next = 0;
  const worker = async () => {
    while (next < argvs.length) {
      const i = next++;
      out[i] = await new Promise<Run>((done) => {
        const c = spawn(process.execPath, [DEVENV, ...argvs[i]], {cwd: sb.dir, env: {...sb.env, PWD: sb.dir}});
        let stdout = '';
        let stderr = '';
        c.stdout.on('data', (d) => (stdout += d));
        c.stderr.on('data', (d) => (stderr += d));
        c.on('close', (status) => done({status, stdout, stderr}));
      });
    }
  };
  await Promise.all(Array.from({length: width}, worker));
  return out;
}

/** A usage error: exit 2, one short message with a hint, no oclif internals, no stack. */
function expectUsageError(args: string[], json: boolean, message: RegExp, ran?: Run) {
  const r = ran ?? sb.devenv(json ? [...args, '--json'] : args);
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
  test('every command, given a bogus flag, exits 2 with one short message, with and without --json', async () => {
    expect(commands.length).toBeGreaterThan(15);
    const argvs = commands.flatMap((c) => [[...c.id.split(':'), '--bogus'], [...c.id.split(':'), '--bogus', '--json']]);
    const runs = await runMany(argvs);
    commands.forEach((c, i) => {
      const args = [...c.id.split(':'), '--bogus'];
      expectUsageError(args, false, /^devenv: unknown flag --bogus\n/, runs[2 * i]);
      // A command without --json also calls --json unknown, still in the JSON shape asked for.
      expectUsageError(args, true, c.enableJsonFlag ? /^unknown flag --bogus$/ : /^unknown flags --bogus, --json$/, runs[2 * i + 1]);
    });
  });

  test('missing and extra arguments, unknown commands and bad option values', () => {
    for (const json of [false, true]) {
      expectUsageError(['add'], json, /missing argument: <package>/);
      expectUsageError(['templates', 'extra'], json, /unexpected argument: extra/);
      expectUsageError(['status', 'a', 'b'], json, /unexpected arguments: a b/);
      expectUsageError(['frobnicate'], json, /unknown command 'frobnicate'/);
      expectUsageError(['--bogus'], json, /unknown flag --bogus/);
      expectUsageError(['hook', 'tcsh'], json, /expected tcsh to be one of: bash, zsh, fish/);
      expectUsageError(['logs', '-n', 'many'], json, /--lines: /);
    }
    // help has no --json of its own.
    expectUsageError(['help', 'frobnicate'], false, /unknown command 'frobnicate'/);
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

  test("every error code devenv uses is in the exit-code table's --json column", () => {
    const files = (dir: string): string[] => readdirSync(dir, {withFileTypes: true}).flatMap((d) => (d.isDirectory() ? files(join(dir, d.name)) : d.name.endsWith('.ts') ? [join(dir, d.name)] : []));
    const codes = new Set(['user_error', 'nix_failed']);
    for (const f of files(join(REPO, 'src'))) for (const m of readFileSync(f, 'utf8').matchAll(/\bcode: '([a-z_]+)'/g)) codes.add(m[1]);
    const table = README.slice(README.indexOf('| exit | meaning |'));
    const missing = [...codes].filter((c) => !table.includes(`\`${c}\``));
    expect(missing).toEqual([]);
  });

  test('the command table names every command with exactly its flags', () => {
    const table = README.slice(README.indexOf('## Commands'), README.indexOf('\n\n', README.indexOf('| command |')));
    // Each backticked usage in the first column: `devenv up [-d] [--json]`, `deny [dir]`.
    const spelled: string[] = [];
    for (const row of table.split('\n').filter((l) => l.startsWith('| `'))) {
      for (const m of row.split(' | ')[0].matchAll(/`(?:devenv )?([a-z][^`]*)`/g)) spelled.push(m[1]);
    }
    // A command's usage is the one spelled with its words (`cache push [--to URL]`), the rest its flags.
    const usageOf = (id: string): string | undefined => {
      const words = id.replace(/:/g, ' ');
      const u = spelled.find((x) => x === words || x.startsWith(`${words} `));
      return u === undefined ? undefined : u.slice(words.length);
    };
    for (const c of commands) {
      const usage = usageOf(c.id);
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

describe('what the commands say matches what happened (no nix needed)', () => {
  test('a deleted project is listed as missing, and deny forgets it', () => {
    const p = join(sb.dir, 'gone');
    mkdirSync(p);
    expect(sb.devenv(['init', 'minimal'], {cwd: p}).status).toBe(0);
    expect(sb.devenv(['allowed']).stdout).toMatch(new RegExp(`^${p}  allowed `, 'm'));
    rmSync(p, {recursive: true});
    const listed = sb.devenv(['allowed']);
    expect(listed.stdout).toMatch(new RegExp(`^${p}  missing: the directory is gone \\('devenv deny ${p}' forgets it\\)`, 'm'));
    expect(listed.stdout).not.toContain('changed since allowed');
    expect(JSON.parse(sb.devenv(['allowed', '--json']).stdout).projects).toEqual([expect.objectContaining({root: p, current: 'missing'})]);
    const d = sb.devenv(['deny', p]);
    expect(d.status).toBe(0);
    expect(d.stdout).toContain(`forgot ${p}`);
    expect(sb.devenv(['allowed']).stdout).toBe('devenv: nothing allowed yet\n');
    // A path devenv never knew is an error, not a silent success.
    const again = sb.devenv(['deny', p]);
    expect(again.status).toBe(1);
    expect(again.stderr).toContain(`${p} does not exist`);
  });

  test('remove of a package a section brings in names that section', () => {
    const p = join(sb.dir, 'py');
    mkdirSync(p);
    expect(sb.devenv(['init', 'python'], {cwd: p}).status).toBe(0);
    const before = readFileSync(join(p, 'devenv.toml'), 'utf8');
    const r = sb.devenv(['remove', 'python311'], {cwd: p});
    expect(r.stderr).toBe('devenv: python311 is not in the packages list; [languages.python] in devenv.toml brings it in (remove or change that section to drop it)\n');
    expect(readFileSync(join(p, 'devenv.toml'), 'utf8')).toBe(before);
  });

  test("up in a project with a flake of its own does not suggest 'init', which would refuse", () => {
    const p = join(sb.dir, 'foreign');
    mkdirSync(p);
    writeFileSync(join(p, 'flake.nix'), '{ outputs = { self }: { }; }\n');
    const r = sb.devenv(['up', '-d'], {cwd: p});
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('defines no services');
    expect(r.stderr).toContain('[services.postgres]');
    expect(r.stderr).not.toMatch(/devenv init/);
    expect(sb.devenv(['init', 'postgres'], {cwd: p}).status).toBe(1); // what it used to suggest
  });

  test('an unexpected error on a hook miss is one line, no stack, and blocks until a file changes', () => {
    const p = join(sb.dir, 'hookfail');
    mkdirSync(p);
    writeFileSync(join(p, 'devenv.toml'), 'name = "x"\n');
    const state = join(sb.dir, 'bad-state');
    mkdirSync(join(state, 'devenv'), {recursive: true});
    writeFileSync(join(state, 'devenv', 'projects'), 'not a directory');
    const r = sb.devenv(['__hook', 'bash', p], {cwd: p, env: {XDG_STATE_HOME: state}});
    expect(r.status).toBe(0);
    expect(r.stderr).not.toMatch(/^\s+at /m);
    expect(r.stderr).toMatch(/^devenv: ENOTDIR: not a directory[^\n]*\n {2}hint: [^\n]+\n$/);
    // The shell gets block code: it watches the project's files instead of calling node on every prompt.
    expect(r.stdout).toContain(`_devenv_present=($'${p}/devenv.toml'`);
    expect(r.stdout).toContain('will try again when a project file changes');
  });
});

test('devenv add then remove keeps a devenv.toml full of comments as it was', () => {
  const p = join(sb.dir, 'comments');
  mkdirSync(p);
  const text = `# top comment
name = "comments"   # odd   spacing

packages = [
  "git",   # version control
  # "cmake", # re-enable for the C build
  'jq',
]   # after

[env]
# keep me
A = "b"  # and me
`;
  writeFileSync(join(p, 'devenv.toml'), text);
  const add = sb.devenv(['add', 'hello', 'openssl'], {cwd: p});
  expect(add.status).toBe(0);
  expect(readFileSync(join(p, 'devenv.toml'), 'utf8')).toBe(text.replace("  'jq',\n", "  'jq',\n  \"hello\",\n  \"openssl\",\n"));
  expect(readFileSync(join(p, 'flake.nix'), 'utf8')).toContain('pkgs.openssl');
  expect(sb.devenv(['remove', 'hello', 'openssl'], {cwd: p}).status).toBe(0);
  expect(readFileSync(join(p, 'devenv.toml'), 'utf8')).toBe(text);
  expect(sb.devenv(['remove', 'git'], {cwd: p}).status).toBe(0);
  expect(readFileSync(join(p, 'devenv.toml'), 'utf8')).toBe(text.replace('  "git",   # version control\n', ''));
});
