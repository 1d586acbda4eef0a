// `devenv cache push`: Nix's own `nix copy` to any store URL, signed on the way by the user's key
// (binary caches sign through their `secret-key` parameter, read by the nix client process alone).
import {DevenvError, ExitCode, UsageError} from '../errors.js';
import {runNix} from '../nix/nix.js';

const BINARY_CACHE = /^(file|https?|s3):\/\//;
const URL_RE = /^(file|https?|s3|ssh|ssh-ng):\/\/[^\s"'\\$;`]+$/;

export function checkStoreUrl(url: string): void {
  if (!URL_RE.test(url)) throw new UsageError(`'${url}' is not a store URL devenv can push to`, 'use file:///dir, http(s)://host/path, s3://bucket, ssh://host or ssh-ng://host');
  if (/[?&]secret-key=/.test(url)) throw new UsageError('the store URL names a secret-key', "devenv signs with your key from 'devenv cache key generate' (choose with --key)");
}

/**
 * The URL nix copies to: binary caches get the secret key (and zstd, much faster than nix's
 * default xz, unless the URL says otherwise). ssh stores sign nothing in transit: the remote
 * store must trust the pushing user.
 */
export function pushUrl(url: string, secretFile: string | undefined): {url: string; signed: boolean} {
  checkStoreUrl(url);
  if (!BINARY_CACHE.test(url) || !secretFile) return {url, signed: false};
  const params = [`secret-key=${encodeURIComponent(secretFile).replace(/%2F/g, '/')}`];
  if (!/[?&]compression=/.test(url)) params.push('compression=zstd');
  return {url: url + (url.includes('?') ? '&' : '?') + params.join('&'), signed: true};
}

/** What a URL looks like in messages: no query (it may name a key file). */
export const displayUrl = (url: string): string => url.replace(/\?.*$/, '');

export interface CopyResult {
  /** Paths in the closure. */
  total: number;
  copied: number;
  already: number;
}

const copiedCount = (stderr: string): number => stderr.split('\n').filter((l) => /^copying path '/.test(l.replace(/\x1b\[[0-9;]*m/g, ''))).length;

/** Copy `paths` and their closure from the local store to `url`. */
export async function copyClosure(paths: string[], url: string): Promise<CopyResult> {
  const info = await runNix(['path-info', '--recursive', ...paths], {what: 'nix path-info'});
  const total = info.stdout.split('\n').filter(Boolean).length;
  const res = await runNix(['copy', '--to', url, ...paths], {what: `nix copy --to ${displayUrl(url)}`}).catch((e) => {
    throw unsupportedStore(e, url);
  });
  const copied = copiedCount(res.stderr);
  return {total, copied, already: Math.max(0, total - copied)};
}

/** Nix without S3 support (Debian's nix-bin 2.8, for one) cannot open s3:// at all: say so plainly. */
export function unsupportedStore(e: unknown, url: string): unknown {
  const msg = (e as Error)?.message ?? '';
  if (/don't know how to open Nix store/.test(msg) || /not built with S3 support/.test(msg)) {
    return new DevenvError(`this nix cannot open ${displayUrl(url)}: it was built without support for that store type`, {
      hint: url.startsWith('s3://') ? 'use a Nix built with S3 support (the official installer\'s is), or push to file:// / ssh:// on a host and serve that directory over HTTPS' : 'use file://, http(s)://, ssh:// or ssh-ng://',
      code: 'nix_failed',
      exitCode: ExitCode.nixFailed,
    });
  }
  return e;
}

/** Count what `nix flake archive --to` copied (its stderr), given the archive's JSON. */
export function archiveResult(stdout: string, stderr: string): CopyResult {
  let total = 0;
  const walk = (n: {path?: string; inputs?: Record<string, unknown>}) => {
    if (n.path) total++;
    for (const c of Object.values(n.inputs ?? {})) walk(c as typeof n);
  };
  try {
    walk(JSON.parse(stdout));
  } catch {}
  const copied = copiedCount(stderr);
  return {total, copied, already: Math.max(0, total - copied)};
}
