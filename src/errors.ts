// Typed errors: each carries an exit code and what the user should do next.
// Kept free of imports so the hot path can load it for nothing.

export const ExitCode = {
  ok: 0,
  user: 1, // bad input, refused, not allowed
  usage: 2,
  nixMissing: 3,
  nixFailed: 4,
  service: 5,
} as const;

export class DevenvError extends Error {
  readonly exitCode: number;
  readonly hint?: string;
  readonly code: string;
  constructor(message: string, opts: {exitCode?: number; hint?: string; code?: string} = {}) {
    super(message);
    this.name = new.target.name;
    this.exitCode = opts.exitCode ?? ExitCode.user;
    this.hint = opts.hint;
    this.code = opts.code ?? 'user_error';
  }

  toJSON(): Record<string, unknown> {
    return {error: this.code, message: this.message, hint: this.hint, exitCode: this.exitCode};
  }
}

export class UsageError extends DevenvError {
  constructor(message: string, hint?: string) {
    super(message, {exitCode: ExitCode.usage, hint, code: 'usage'});
  }
}

/** devenv.toml could not be read, parsed or validated. `location` is "devenv.toml:7:3". */
export class ManifestError extends DevenvError {
  readonly location?: string;
  readonly keyPath?: string;
  constructor(message: string, opts: {location?: string; keyPath?: string; hint?: string} = {}) {
    super(opts.location ? `${opts.location}: ${message}` : message, {hint: opts.hint, code: 'manifest_invalid'});
    this.location = opts.location;
    this.keyPath = opts.keyPath;
  }
}

export class NotAProjectError extends DevenvError {
  constructor(dir: string) {
    super(`no devenv project here: neither devenv.toml nor flake.nix found in ${dir} or its parents`, {
      hint: "run 'devenv init <template>' to create one (see 'devenv templates')",
      code: 'not_a_project',
    });
  }
}

export class FileExistsError extends DevenvError {
  constructor(file: string) {
    super(`${file} already exists; not overwriting it`, {hint: 'pass --force to overwrite it', code: 'file_exists'});
  }
}

/** What a blocked project needs: the inputs are what nix reads (project/inputs.ts). */
export const ALLOW_HINT = "run 'devenv allow' to trust what nix reads of it";

export class NotAllowedError extends DevenvError {
  constructor(root: string, why = 'is not allowed') {
    super(`${root} ${why}`, {
      hint: ALLOW_HINT,
      code: 'not_allowed',
    });
  }
}

export class NixMissingError extends DevenvError {
  constructor() {
    super('nix was not found on PATH', {
      exitCode: ExitCode.nixMissing,
      hint: 'install Nix (Debian: apt-get install nix-bin; elsewhere: https://nixos.org/download) and open a new shell',
      code: 'nix_missing',
    });
  }
}

export class NixFailedError extends DevenvError {
  readonly stderr: string;
  /** Interrupted or killed, not a verdict on the content: retried, never cached as an error. */
  readonly transient: boolean;
  /** `diagnosis`: what src/nix/nix-error.ts's table makes of `stderr`, when it knows the failure. */
  constructor(what: string, stderr: string, opts: {transient?: boolean; diagnosis?: {code: string; message: string; hint: string; replacesNixLine?: boolean}} = {}) {
    const diagnosis = opts.diagnosis;
    // A named failure leads with devenv's words and keeps nix's own error line (the table re-reads it).
    // (the first error line that says something: newer Nix opens with a bare "error:" and frames)
    const nixLine = stderr.split('\n').find((l) => /^error:\s*\S/.test(l.trim()));
    const message = opts.transient
      ? `${what} was ${stderr.trim()}`
      : diagnosis
        ? `${what} failed: ${diagnosis.message}${nixLine && !diagnosis.replacesNixLine ? `\n${nixLine.trim()}` : ''}`
        : `${what} failed:\n${stderr.trim()}`;
    super(message, {
      exitCode: ExitCode.nixFailed,
      hint: opts.transient ? 'devenv tries again at the next prompt or command' : diagnosis?.hint ?? "fix the error above, then run 'devenv reload'",
      code: diagnosis?.code ?? 'nix_failed',
    });
    this.stderr = stderr;
    this.transient = !!opts.transient;
  }
}

/** True for a failure that says nothing about the project (a signal, an interrupted nix). */
export const isTransient = (e: unknown): boolean => e instanceof NixFailedError && e.transient;

export class ServiceError extends DevenvError {
  constructor(message: string, hint?: string) {
    super(message, {exitCode: ExitCode.service, hint, code: 'service_error'});
  }
}
