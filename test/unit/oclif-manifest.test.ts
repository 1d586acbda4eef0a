// oclif.manifest.json is generated and committed; it must list exactly the commands in src/commands.
import {expect, test} from '@jest/globals';
import {readdirSync, readFileSync} from 'node:fs';
import {join} from 'node:path';
import {fileURLToPath} from 'node:url';

const REPO = fileURLToPath(new URL('../..', import.meta.url));

/** Command files under src/commands, nested topics included (cache/key/generate.ts is `cache:key:generate`). */
const commandFiles = (): string[] =>
  (readdirSync(join(REPO, 'src', 'commands'), {recursive: true}) as string[]).filter((f) => f.endsWith('.ts')).sort();

test('oclif.manifest.json agrees with src/commands', () => {
  const manifest = JSON.parse(readFileSync(join(REPO, 'oclif.manifest.json'), 'utf8'));
  const commands = commandFiles().map((f) => f.slice(0, -3).split('/').join(':')).sort();
  expect(Object.keys(manifest.commands).sort()).toEqual(commands);
  for (const [id, c] of Object.entries(manifest.commands) as [string, {summary?: string; description?: string; examples?: unknown[]; flags: Record<string, unknown>}][]) {
    expect([id, !!(c.summary || c.description)]).toEqual([id, true]);
    expect([id, (c.examples ?? []).length > 0]).toEqual([id, true]);
  }
  const pkg = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8'));
  expect(manifest.version).toBe(pkg.version);
});

// oclif reads a missing argument from stdin when stdin is piped; a command run from a
// script (or the demo) would then swallow the script. Every argument must opt out.
test('no command argument reads stdin', () => {
  for (const f of commandFiles()) {
    const text = readFileSync(join(REPO, 'src', 'commands', f), 'utf8');
    const args = text.match(/Args\.\w+\(\{[^}]*\}/g) ?? [];
    for (const a of args) expect([f, a.includes('ignoreStdin: true')]).toEqual([f, true]);
  }
});

// A command that never parses prints oclif's "did not parse its arguments" warning on stderr
// and silently ignores --json and unknown flags.
test('every command parses its argv', () => {
  for (const f of readdirSync(join(REPO, 'src', 'commands')).filter((x) => x.endsWith('.ts'))) {
    expect([f, readFileSync(join(REPO, 'src', 'commands', f), 'utf8').includes('await this.parse(')]).toEqual([f, true]);
  }
});
