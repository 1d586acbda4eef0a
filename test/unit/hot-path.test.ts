// The warm path (exec, the hook's internal calls) must not load oclif, execa, ajv or the TOML
// parser: each costs more than the whole warm exec. Walk the static import graph from
// src/hot.ts (dynamic `await import()` is the cold path's business) and allow only Node
// built-ins and our own modules.
import {expect, test} from '@jest/globals';
import {spawnSync} from 'node:child_process';
import {cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {dirname, join, relative, resolve} from 'node:path';
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
  // hot.ts itself, and what it loads for `exec`, `hook <shell>`, the hook's miss path and ps/status/down/logs.
  for (const entry of ['hot.ts', 'usecases/exec.ts', 'activation/hook-text.ts', 'activation/hook-cache.ts', 'usecases/hook-miss.ts', 'cli/light.ts']) visit(join(SRC, entry));
  expect(foreign).toEqual([]);
  // And the walk really covered exec and the hook's miss path.
  expect([...seen].map((f) => f.slice(SRC.length))).toEqual(expect.arrayContaining(['usecases/exec.ts', 'cache/key.ts', 'cache/entries.ts', 'shells/bash.ts', 'shells/logic.ts', 'trust/trust.ts']));
});

test('`devenv hook <shell>` goes to the hot path, and --help or an unknown shell to oclif', () => {
  const run = readFileSync(fileURLToPath(new URL('../../bin/run.js', import.meta.url)), 'utf8');
  const hot = readFileSync(join(SRC, 'hot.ts'), 'utf8');
  expect(run).toMatch(/argv\[0\] === 'hook' && argv\.length === 2 && \['bash', 'zsh', 'fish'\]\.includes\(argv\[1\]\)/);
  expect(hot).toMatch(/cmd === 'hook'/);
});

test("a new terminal's cached `devenv hook` starts no ESM loader: bin/run.js is CommonJS and the cache reader loads only its own CommonJS build", () => {
  const pkg = JSON.parse(readFileSync(fileURLToPath(new URL('../../bin/package.json', import.meta.url)), 'utf8'));
  expect(pkg.type).toBe('commonjs');
  const run = readFileSync(fileURLToPath(new URL('../../bin/run.js', import.meta.url)), 'utf8');
  expect(run).not.toMatch(/^import\s/m);
  expect(run).toMatch(/require\('\.\.\/dist\/cjs\/activation\/hook-cache\.js'\)/);
  // What requiring the reader loads (the build made dist/cjs): nothing but its own two files.
  const dist = fileURLToPath(new URL('../../dist/', import.meta.url));
  const r = spawnSync(process.execPath, ['-e', `require(${JSON.stringify(join(dist, 'cjs/activation/hook-cache.js'))}); console.log(JSON.stringify(Object.keys(require.cache)))`], {encoding: 'utf8'});
  expect(r.status).toBe(0);
  expect((JSON.parse(r.stdout) as string[]).map((f) => relative(dist, f)).sort()).toEqual(['cjs/activation/hook-cache.js', 'cjs/util/xdg.js']);
});

// The layers, lowest first: a folder may import (statically or with `await import`) only from
// folders of a lower layer, never from its own layer's siblings or from above.
// Type-only imports are not dependencies at run time and are not counted.
export const LAYERS: string[][] = [
  ['errors.ts'],
  ['util'],
  ['paths.ts'],
  ['shells'],
  ['env'],
  ['manifest'],
  ['nix', 'flake'],
  ['project'],
  ['trust'],
  ['teams'],
  ['cache'],
  ['evaluation'],
  ['services', 'languages', 'container'],
  ['activation'],
  ['watch'],
  ['usecases'],
  ['cli'],
  ['commands', 'hot.ts'],
];

function allImports(text: string): string[] {
  const stat = [...text.matchAll(/^(?:import|export)\s+(?!type\b)[^'"]*?from\s+'([^']+)'|^import\s+'([^']+)'/gm)].map((m) => m[1] ?? m[2]);
  const dyn = [...text.matchAll(/\bimport\(\s*'([^']+)'\s*\)/g)].map((m) => m[1]);
  return [...stat, ...dyn];
}

/** Violations of LAYERS in the tree under `src`: "from -> to" lines. */
export function layerViolations(src: string): string[] {
  const layerOf = (rel: string): number => {
    const top = rel.split('/')[0];
    return LAYERS.findIndex((l) => l.includes(top));
  };
  const out: string[] = [];
  const files = readdirSync(src, {recursive: true, encoding: 'utf8'}).filter((f) => f.endsWith('.ts'));
  for (const rel of files) {
    const from = layerOf(rel);
    if (from < 0) {
      out.push(`${rel} is in no layer`);
      continue;
    }
    for (const spec of allImports(readFileSync(join(src, rel), 'utf8'))) {
      if (!spec.startsWith('.')) continue;
      const target = relative(src, resolve(dirname(join(src, rel)), spec)).replace(/\.js$/, '.ts');
      if (target.split('/')[0] === rel.split('/')[0]) continue; // within one folder
      const to = layerOf(target);
      if (to < 0 || to >= from) out.push(`${rel} -> ${target}`);
    }
  }
  return out;
}

test('every core folder imports only folders of the layers below it', () => {
  expect(layerViolations(SRC)).toEqual([]);
});

test('the layering check catches an upward import', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'devenv-layers-'));
  try {
    cpSync(SRC, tmp, {recursive: true});
    expect(layerViolations(tmp)).toEqual([]);
    // trust reaching up into evaluation, statically and dynamically
    writeFileSync(join(tmp, 'trust', 'up.ts'), "import {x} from '../evaluation/evaluate.js';\nexport const y = async () => import('../usecases/exec.js');\n");
    // and two folders of one layer importing each other
    writeFileSync(join(tmp, 'shells', 'side.ts'), "export {fromPrintDevEnv} from '../env/print-dev-env.js';\n");
    expect(layerViolations(tmp).sort()).toEqual(['shells/side.ts -> env/print-dev-env.ts', 'trust/up.ts -> evaluation/evaluate.ts', 'trust/up.ts -> usecases/exec.ts']);
  } finally {
    rmSync(tmp, {recursive: true, force: true});
  }
});
