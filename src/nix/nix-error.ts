// What nix's error reports mean for a devenv user: one table, used where errors are made
// (runNix), re-read from a stored error (status, the cached-failure path) and by doctor.
// No imports: the hot path loads it.

export interface NixDiagnosis {
  /** `error` in --json output. */
  code: string;
  /** What happened, in devenv's words. */
  message: string;
  /** What to do. */
  hint: string;
  /** devenv's message says all nix's line did (and nix's would mislead): leave nix's out. */
  replacesNixLine?: boolean;
}

/** What the caller knows of the project, for a message naming its own files. */
export interface NixErrorContext {
  /** `[project] inputs` as devenv.toml has them now. */
  declared?: string[];
  /** Whether a name (relative to the root) is in the project. */
  exists?: (name: string) => boolean;
  /** Whether a name looks like a dotenv file (never given to nix). */
  dotenvLike?: (name: string) => boolean;
  /** Whether a name is a *.nix file of a git project that git does not track (so not an input). */
  untracked?: (name: string) => boolean;
}

interface Entry {
  code: string;
  patterns: RegExp[];
  explain: (m: RegExpExecArray, ctx: NixErrorContext) => {message: string; hint: string; replacesNixLine?: boolean};
}

const tomlString = (s: string): string => JSON.stringify(s);

/** The devenv.toml line that declares `name` an input, given what is declared already. */
export const inputsLine = (name: string, declared: string[] = []): string =>
  `[project] inputs = [${[...declared.filter((d) => d !== name), name].map(tomlString).join(', ')}]`;

const STORE_SOURCE = String.raw`\/nix\/store\/[0-9a-z]{32}-source\/`;

export const NIX_ERRORS: Entry[] = [
  {
    // Nix reads a copy holding only the environment's inputs (project/inputs.ts): a file the
    // flake reads that is not one is missing there, though the user can see it in the project.
    code: 'nix_undeclared_input',
    patterns: [
      new RegExp(`getting status of '${STORE_SOURCE}([^']+)': No such file or directory`),
      new RegExp(`path '${STORE_SOURCE}([^']+)' does not exist`),
      new RegExp(`opening file '${STORE_SOURCE}([^']+)': No such file or directory`),
      // devenv's own message, re-read from a stored error (status, doctor).
      /the flake reads ([^,\s]+), which is not one of the environment's inputs/,
      /the flake reads ([^,\s]+), which git does not track/,
    ],
    explain: (m, ctx) => {
      const name = m[1];
      if (ctx.dotenvLike?.(name)) {
        return {
          message: `the flake reads ${name}, which looks like a dotenv file: devenv never gives those to nix (they would be copied world-readable into /nix/store)`,
          hint: `read it at activation instead: [dotenv] files = [${tomlString(name)}] in devenv.toml`,
          replacesNixLine: true,
        };
      }
      if (ctx.exists && !ctx.exists(name)) {
        return {message: `the flake reads ${name}, which does not exist in the project`, hint: `create ${name}, or stop reading it in the flake`, replacesNixLine: true};
      }
      const line = inputsLine(name, ctx.declared);
      if (ctx.untracked?.(name) || m[0].endsWith('git does not track')) {
        return {
          message: `the flake reads ${name}, which git does not track: in a git project the .nix inputs are the ones git tracks, as for nix itself`,
          hint: `run 'git add ${name}' (or add ${line} to devenv.toml)`,
          replacesNixLine: true,
        };
      }
      return {message: `the flake reads ${name}, which is not one of the environment's inputs; add to devenv.toml: ${line}`, hint: `add ${line} to devenv.toml (globs work too, e.g. "${name.includes('/') ? name.slice(0, name.indexOf('/')) + '/**' : '*.' + (name.split('.').pop() ?? 'sh')}")`, replacesNixLine: true};
    },
  },
  {
    // Without inputs.nixpkgs nix resolves `nixpkgs` through the online flake registry.
    code: 'nix_no_nixpkgs_input',
    patterns: [/cannot find flake 'flake:nixpkgs' in the flake registries/, /unable to download '[^']*flake-registry\.json'/, /input 'nixpkgs' (?:does not exist|not found)/],
    explain: () => ({
      message: 'flake.nix declares no nixpkgs input (inputs.nixpkgs.url), and nix could not look nixpkgs up in the online flake registry',
      hint: "set inputs.nixpkgs.url in flake.nix (e.g. \"github:NixOS/nixpkgs/nixos-26.05\"), or run 'devenv generate --force' to regenerate flake.nix from devenv.toml",
    }),
  },
  {
    code: 'nix_no_flakes',
    patterns: [/experimental Nix feature '(?:flakes|nix-command)' is disabled/, /unrecognised flag '--extra-experimental-features'/, /unrecognized option[^\n]*experimental-features/],
    explain: () => ({
      message: 'this nix cannot use flakes',
      hint: "upgrade to Nix 2.4 or newer (devenv passes --extra-experimental-features 'nix-command flakes' itself); 'devenv doctor' checks it",
    }),
  },
  {
    code: 'nix_no_daemon',
    patterns: [/cannot connect to (?:socket|daemon) at '([^']+)'/],
    explain: (m) => ({
      message: `nix cannot reach the nix daemon (${m[1]})`,
      hint: 'start it (sudo systemctl start nix-daemon), or unset NIX_REMOTE to use the store directly; check that you may use it (allowed-users in nix.conf)',
    }),
  },
];

/** The table's reading of a nix error report, or undefined when devenv cannot name it. */
export function diagnoseNixError(text: string, ctx: NixErrorContext = {}): NixDiagnosis | undefined {
  for (const e of NIX_ERRORS) {
    for (const p of e.patterns) {
      const m = p.exec(text);
      if (m) return {code: e.code, ...e.explain(m, ctx)};
    }
  }
  return undefined;
}

/**
 * Where the cause is in a nix error report. Nix 2.8 starts with it ("error: attribute 'x'
 * missing"); newer Nix starts with a bare "error:" and a stack of "… while ..." frames, and
 * names the cause further down. Either way: the first error line that says something.
 */
function causeAt(lines: string[]): number {
  return lines.findIndex((l) => /^error:\s*\S/.test(l));
}

/** "error: syntax error, unexpected ';' (at flake.nix:1:42)"; falls back to the last meaningful lines. */
export function summarizeNixError(text: string): string {
  const lines = text.split('\n').map((l) => l.trim());
  const i = causeAt(lines);
  if (i < 0) {
    const rest = lines.filter((l) => l && !l.startsWith('warning:') && l !== 'error:' && !l.startsWith('…'));
    return rest.slice(-2).join(' | ') || 'unknown error';
  }
  const at = lines.slice(i + 1).find((l) => l.startsWith('at '));
  // Nix reports the copy in the store; the user edits the file in the project.
  const where = at ? ` (${at.slice(3).replace(/:$/, '').replace(/\/nix\/store\/[0-9a-z]{32}-source\//, '')})` : '';
  return lines[i] + where;
}

/**
 * A few lines for a shell prompt: devenv's own first line ("nix print-dev-env failed:"), the
 * cause with its place, and nix's suggestion when it has one; no stack frames, no code excerpt.
 */
export function briefNixError(text: string): string[] {
  const lines = text.split('\n').map((l) => l.trim()).filter(Boolean);
  const first = lines[0] && !/^(error|warning):/.test(lines[0]) ? [lines[0]] : [];
  const i = causeAt(lines);
  if (i < 0) return [...first, summarizeNixError(text)];
  const hint = lines.slice(i + 1).find((l) => /^did you mean/i.test(l));
  return [...first, summarizeNixError(text), ...(hint ? [hint] : [])];
}
