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
}

interface Entry {
  code: string;
  patterns: RegExp[];
  explain: (m: RegExpExecArray) => {message: string; hint: string};
}

const STORE_SOURCE = String.raw`\/nix\/store\/[0-9a-z]{32}-source\/`;

export const NIX_ERRORS: Entry[] = [
  {
    // A flake in a git repository sees only files git knows: nix copies the tracked ones to the store.
    code: 'nix_untracked_file',
    patterns: [
      new RegExp(`getting status of '${STORE_SOURCE}([^']+)': No such file or directory`),
      new RegExp(`path '${STORE_SOURCE}([^']+)' does not exist`),
      // Nix >= 2.2x says it itself, relative to the repository's top.
      /Path '([^']+)' in the repository "[^"]*" is not tracked by Git/,
    ],
    explain: (m) => ({
      message: `${m[1]} is not tracked by git, so the flake cannot see it`,
      hint: `git add ${m[1]}${m[1].includes('/') ? ' (from the top of the repository)' : ''}, or 'git add --intent-to-add ${m[1]}' to keep it out of the next commit`,
    }),
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
export function diagnoseNixError(text: string): NixDiagnosis | undefined {
  for (const e of NIX_ERRORS) {
    for (const p of e.patterns) {
      const m = p.exec(text);
      if (m) return {code: e.code, ...e.explain(m)};
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
