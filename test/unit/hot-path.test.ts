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

// ---- guards of the Project handle (issue 22.4) ---------------------------------------------

/** Where a path string may still be turned into a project: the adapters open it once. */
const ADAPTERS = ['commands', 'cli', 'hot.ts'];

const srcFiles = (src: string): string[] => readdirSync(src, {recursive: true, encoding: 'utf8'}).filter((f) => f.endsWith('.ts')).sort();

/** Exported functions outside the adapters whose first parameter is a path string `root` or `cwd` (a Project travels instead). */
export function pathParams(src: string): string[] {
  const out: string[] = [];
  for (const rel of srcFiles(src)) {
    if (ADAPTERS.includes(rel.split('/')[0])) continue;
    const text = readFileSync(join(src, rel), 'utf8');
    const re = /^export\s+(?:async\s+)?function\s+(\w+)\s*(?:<[^>(]*>)?\(\s*(root|cwd)\s*:\s*string\b|^export\s+const\s+(\w+)\s*=\s*(?:async\s+)?\(\s*(root|cwd)\s*:\s*string\b/gm;
    for (const m of text.matchAll(re)) out.push(`${rel}: ${m[1] ?? m[3]}(${m[2] ?? m[4]}: string)`);
  }
  return out;
}

/** Every file-level import cycle (static or dynamic `import()`, not type-only), each as its files in order. */
export function importCycles(src: string): string[] {
  const files = srcFiles(src);
  const edges = new Map<string, string[]>();
  for (const rel of files) {
    const to = allImports(readFileSync(join(src, rel), 'utf8'))
      .filter((s) => s.startsWith('.'))
      .map((s) => relative(src, resolve(dirname(join(src, rel)), s)).replace(/\.js$/, '.ts'))
      .filter((t) => files.includes(t));
    edges.set(rel, [...new Set(to)]);
  }
  // Tarjan's strongly connected components: a component of two or more files (or a file importing itself) is a cycle.
  let n = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const on = new Set<string>();
  const out: string[] = [];
  const visit = (v: string) => {
    index.set(v, n);
    low.set(v, n++);
    stack.push(v);
    on.add(v);
    for (const w of edges.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (on.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const scc: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        on.delete(w);
        scc.push(w);
      } while (w !== v);
      if (scc.length > 1 || edges.get(v)!.includes(v)) out.push(scc.sort().join(' <-> '));
    }
  };
  for (const f of files) if (!index.has(f)) visit(f);
  return out.sort();
}

/** Files outside project/ that turn a path into a project themselves (`openProject` at the adapter is the way). */
export function projectAtOutside(src: string): string[] {
  return srcFiles(src).filter((rel) => rel.split('/')[0] !== 'project' && /\bprojectAt\(/.test(readFileSync(join(src, rel), 'utf8')));
}

test('outside the adapters, no exported function takes a root or cwd path string first: the Project handle travels', () => {
  expect(pathParams(SRC)).toEqual([]);
});

test('no file-level import cycle, static or dynamic', () => {
  expect(importCycles(SRC)).toEqual([]);
});

test('projectAt( appears only in project/', () => {
  expect(projectAtOutside(SRC)).toEqual([]);
});

test('the handle guards catch a planted violation of each kind', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'devenv-guards-'));
  try {
    cpSync(SRC, tmp, {recursive: true});
    expect([pathParams(tmp), importCycles(tmp), projectAtOutside(tmp)]).toEqual([[], [], []]);
    // A core function back on a path string, in both spellings; adapters may keep theirs.
    writeFileSync(join(tmp, 'trust', 'by-path.ts'), "export function trustedAt(root: string, x = 1): boolean {\n  return !!root && !!x;\n}\nexport const cwdOf = async (cwd: string) => cwd;\n");
    writeFileSync(join(tmp, 'commands', 'by-path.ts'), 'export function fine(cwd: string): string {\n  return cwd;\n}\n');
    expect(pathParams(tmp)).toEqual(['trust/by-path.ts: trustedAt(root: string)', 'trust/by-path.ts: cwdOf(cwd: string)']);
    // A cycle through a dynamic import, and a static one inside a folder; a type-only import is none.
    writeFileSync(join(tmp, 'shells', 'a.ts'), "import {b} from './b.js';\nexport const a = () => b;\n");
    writeFileSync(join(tmp, 'shells', 'b.ts'), "export const b = async () => (await import('./a.js')).a;\n");
    writeFileSync(join(tmp, 'shells', 'c.ts'), "import type {a} from './d.js';\nexport type C = typeof a;\n");
    writeFileSync(join(tmp, 'shells', 'd.ts'), "import {x} from './c.js';\nexport const a = x;\n");
    expect(importCycles(tmp)).toEqual(['shells/a.ts <-> shells/b.ts']);
    // Re-opening a project from a string outside project/.
    writeFileSync(join(tmp, 'cache', 'reopen.ts'), "import {projectAt} from '../project/project.js';\nexport const again = (r: string) => projectAt(r);\n");
    expect(projectAtOutside(tmp)).toEqual(['cache/reopen.ts']);
  } finally {
    rmSync(tmp, {recursive: true, force: true});
  }
});
