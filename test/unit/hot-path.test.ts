// The warm path (exec, the hook's internal calls) must not load oclif, execa, ajv or the TOML
// parser: each costs more than the whole warm exec. Walk the static import graph from
// src/hot.ts (dynamic `await import()` is the cold path's business) and allow only Node
// built-ins and our own modules.
import {expect, test} from '@jest/globals';
import {readFileSync} from 'node:fs';
import {dirname, join, resolve} from 'node:path';
import {fileURLToPath} from 'node:url';

const SRC = fileURLToPath(new URL('../../src/', import.meta.url));

function staticImports(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  // `import x from '...'` and `export ... from '...'`, but not `import type` and not `await import(...)`.
  return [...text.matchAll(/^(?:import|export)\s+(?!type\b)[^'"]*?from\s+'([^']+)'|^import\s+'([^']+)'/gm)].map((m) => m[1] ?? m[2]);
}

test('the hot path statically imports only Node built-ins and devenv modules', () => {
  const seen = new Set<string>();
  const foreign: string[] = [];
  const visit = (file: string) => {
    if (seen.has(file)) return;
    seen.add(file);
    for (const spec of staticImports(file)) {
      if (spec.startsWith('node:')) continue;
      if (spec.startsWith('.')) visit(resolve(dirname(file), spec.replace(/\.js$/, '.ts')));
      else foreign.push(`${file.slice(SRC.length)} imports ${spec}`);
    }
  };
  // hot.ts itself, and what it loads for `exec`, `hook <shell>` and the hook's miss path.
  for (const entry of ['hot.ts', 'exec/exec.ts', 'activation/hook-text.ts', 'activation/hook-miss.ts']) visit(join(SRC, entry));
  expect(foreign).toEqual([]);
  // And the walk really covered exec and the hook's miss path.
  expect([...seen].map((f) => f.slice(SRC.length))).toEqual(expect.arrayContaining(['exec/exec.ts', 'cache/key.ts', 'cache/entries.ts', 'shells/bash.ts', 'shells/logic.ts', 'trust/trust.ts']));
});

test('`devenv hook <shell>` goes to the hot path, and --help or an unknown shell to oclif', () => {
  const run = readFileSync(fileURLToPath(new URL('../../bin/run.js', import.meta.url)), 'utf8');
  const hot = readFileSync(join(SRC, 'hot.ts'), 'utf8');
  expect(run).toMatch(/argv\[0\] === 'hook' && argv\.length === 2 && \['bash', 'zsh', 'fish'\]\.includes\(argv\[1\]\)/);
  expect(hot).toMatch(/cmd === 'hook'/);
});
