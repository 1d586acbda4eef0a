// Teams: a project's binary caches ([cache]) and remote builders ([nix]) reach nix as --option
// flags for this project's evaluations only, and only once the project is allowed: a cloned
// repository cannot point anyone's nix at a cache or a builder they did not accept.
// Built-ins only at load time: the manifest parser is imported when a table is present.
import {createHash} from 'node:crypto';
import {relative} from 'node:path';
import {manifestFilesLenient} from '../manifest/files.js';
import type {Manifest} from '../manifest/model.js';
import {type InputDigest, sourceTop} from '../project/inputs.js';
import type {Project} from '../project/project.js';
import {checkTrust} from '../trust/trust.js';

export interface TeamSettings {
  substituters: string[];
  trustedPublicKeys: string[];
  push?: string;
  builders: string[];
  buildersUseSubstitutes?: boolean;
}

export interface ProjectTeamSettings {
  settings: TeamSettings;
  /** Whether they go to nix: only for an allowed project whose devenv.toml is the allowed one. */
  passed: boolean;
  /** Why they are not passed. */
  reason?: string;
}

export const noSettings = (): TeamSettings => ({substituters: [], trustedPublicKeys: [], builders: []});

export const hasSettings = (s: TeamSettings): boolean =>
  s.substituters.length > 0 || s.trustedPublicKeys.length > 0 || !!s.push || s.builders.length > 0 || s.buildersUseSubstitutes !== undefined;

export function teamSettingsOf(m: Manifest): TeamSettings {
  return {
    substituters: m.cache?.substituters ?? [],
    trustedPublicKeys: m.cache?.['trusted-public-keys'] ?? [],
    push: m.cache?.push,
    builders: m.nix?.builders ?? [],
    buildersUseSubstitutes: m.nix?.['builders-use-substitutes'],
  };
}

// Cheap test before loading the TOML parser: a [cache]/[nix] table, a dotted key or an inline table.
const MENTIONS = /^\s*(\[\s*["']?(cache|nix)\b|["']?(cache|nix)["']?\s*[.=])/m;

/** The settings in devenv.toml `text` (validated), or none. */
export async function parseTeamSettings(text: string, file = 'devenv.toml'): Promise<TeamSettings> {
  if (!MENTIONS.test(text)) return noSettings();
  const {parseManifest} = await import('../manifest/parse.js');
  return teamSettingsOf(parseManifest(text, file));
}

const sha = (b: string | Buffer): string => createHash('sha256').update(b).digest('hex');

/**
 * The project's settings, and whether they may reach nix. `inputs` is what is being evaluated:
 * the devenv.toml read here must be the one in it (same bytes), and that content must be trusted.
 */
export async function projectTeamSettings(p: Project, inputs: InputDigest): Promise<ProjectTeamSettings> {
  // Every merged file (includes, devenv.local.toml): each must be the one in `inputs`.
  const files = manifestFilesLenient(p.real);
  if (!files.length) return {settings: noSettings(), passed: false, reason: 'no devenv.toml'};
  let settings: TeamSettings;
  try {
    if (!files.some((f) => MENTIONS.test(f.text))) settings = noSettings();
    else {
      const {loadManifest} = await import('../manifest/load.js');
      settings = teamSettingsOf(loadManifest(p.real)!.manifest);
    }
  } catch {
    // An invalid manifest fails the evaluation elsewhere (flake sync); pass nothing.
    return {settings: noSettings(), passed: false, reason: 'devenv.toml is invalid'};
  }
  if (!hasSettings(settings)) return {settings, passed: false};
  for (const f of files) {
    const recorded = inputs.perFile[relative(sourceTop(p), f.path)];
    if (recorded === undefined || recorded.replace(/^x/, '') !== sha(f.text)) return {settings, passed: false, reason: `${f.name} changed while it was read`};
  }
  const trust = checkTrust(p.root, inputs.digest);
  if (!trust.trusted) return {settings, passed: false, reason: `the project is ${trust.state === 'changed' ? 'changed since it was allowed' : trust.state === 'denied' ? 'denied' : 'not allowed'}`};
  return {settings, passed: true};
}

/**
 * Flags for nix. Always tells nix to ignore the flake's own nixConfig (devenv decides, by trust);
 * the project's caches extend the user's (extra-), its builders replace nix.conf's for this project.
 */
export function nixOptionArgs(s: TeamSettings | undefined): string[] {
  const a = ['--option', 'accept-flake-config', 'false'];
  if (!s) return a;
  if (s.substituters.length) a.push('--option', 'extra-substituters', s.substituters.join(' '));
  if (s.trustedPublicKeys.length) a.push('--option', 'extra-trusted-public-keys', s.trustedPublicKeys.join(' '));
  if (s.builders.length) a.push('--option', 'builders', s.builders.join(' ; '));
  if (s.buildersUseSubstitutes !== undefined) a.push('--option', 'builders-use-substitutes', String(s.buildersUseSubstitutes));
  return a;
}

/** What nix did, read from its log (default verbosity): builds, substitutions, refusals. */
export interface NixActivity {
  built: string[];
  /** Builds nix ran on a remote builder (a subset of `built`), with the builder. */
  remote: {drv: string; on: string}[];
  substituted: {path: string; from: string}[];
  /** Substituters the daemon ignored because the user is not trusted. */
  ignoredSubstituters: string[];
  /** Paths a cache had but whose signature no trusted key matched. */
  refused: {path: string; from: string}[];
  /** Restricted settings the daemon said it ignored (Nix >= 2.2x warns; 2.8 only logs it at debug level). */
  ignoredSettings: string[];
}

export function parseNixActivity(log: string): NixActivity {
  const act: NixActivity = {built: [], remote: [], substituted: [], ignoredSubstituters: [], refused: [], ignoredSettings: []};
  // eslint-disable-next-line no-control-regex
  for (const raw of log.split('\n')) {
    const line = raw.replace(/\x1b\[[0-9;]*m/g, '');
    let m;
    if ((m = /^building '([^']+\.drv)'(?: on '([^']+)')?/.exec(line))) {
      act.built.push(m[1]);
      if (m[2]) act.remote.push({drv: m[1], on: m[2]});
    } else if ((m = /^copying path '([^']+)' from '([^']+)'/.exec(line))) act.substituted.push({path: m[1], from: m[2]});
    else if ((m = /ignoring untrusted substituter '([^']+)'/.exec(line))) act.ignoredSubstituters.push(m[1]);
    // A signature no trusted key matches, in the wordings of Nix 2.8 and of current Nix (2.34:
    // "ignoring substitute for '<path>' from '<url>', as it's not signed by any of the keys ...").
    else if ((m = /(?:the|ignoring) substitute for '([^']+)' from '([^']+)',? (?:is|as it's) not signed by any of the keys/.exec(line))) act.refused.push({path: m[1], from: m[2]});
    else if ((m = /substituter '([^']+)' does not have a valid signature for path '([^']+)'/.exec(line))) act.refused.push({path: m[2], from: m[1]});
    else if ((m = /ignoring the client-specified setting '([^']+)', because it is a restricted setting/.exec(line))) act.ignoredSettings.push(m[1]);
  }
  // A remote build's own log repeats "building '...'" without the builder: count each derivation once.
  act.built = [...new Set(act.built)];
  act.ignoredSubstituters = [...new Set(act.ignoredSubstituters)];
  act.ignoredSettings = [...new Set(act.ignoredSettings)];
  return act;
}

/**
 * The nix.conf lines (for the daemon's /etc/nix/nix.conf) that let a user who is not trusted use
 * the project's caches and builders. Substituters and keys can be allowed one by one; builders
 * only by making the user trusted (or by setting them in nix.conf for everyone).
 */
export function nixConfFix(s: TeamSettings, user: string): string[] {
  const lines: string[] = [];
  if (s.substituters.length) lines.push(`extra-trusted-substituters = ${s.substituters.join(' ')}`);
  if (s.trustedPublicKeys.length) lines.push(`extra-trusted-public-keys = ${s.trustedPublicKeys.join(' ')}`);
  if (s.builders.length) {
    lines.push(`builders = ${s.builders.join(' ; ')}`);
    if (s.buildersUseSubstitutes !== undefined) lines.push(`builders-use-substitutes = ${s.buildersUseSubstitutes}`);
  }
  return lines.length ? [...lines] : [`trusted-users = root ${user}`];
}

/** What the daemon ignored of the project's settings. */
export interface Ignored {
  substituters: string[];
  builders: boolean;
}

/** The settings the daemon ignored: what the nix.conf lines must allow (keys go with the caches). */
export const ignoredPart = (s: TeamSettings, ignored: Ignored): TeamSettings => ({
  ...s,
  substituters: ignored.substituters,
  trustedPublicKeys: ignored.substituters.length ? s.trustedPublicKeys : [],
  builders: ignored.builders ? s.builders : [],
});

/** The message for a user whose daemon ignored (some of) the project's settings. */
export function untrustedMessage(s: TeamSettings, user: string, ignored: Ignored): string {
  const what = [...(ignored.substituters.length ? ['[cache]'] : []), ...(ignored.builders ? ['[nix] builders'] : [])].join(' and ');
  const fix = nixConfFix(ignoredPart(s, ignored), user);
  return [
    `the nix daemon ignores this project's ${what}: ${user} is not a trusted user, so nix silently ${ignored.builders ? 'builds here instead' : 'falls back to building'}`,
    'add to /etc/nix/nix.conf and restart the nix daemon (sudo systemctl restart nix-daemon):',
    ...fix.map((l) => `    ${l}`),
    `  or trust the user for every setting (root-equivalent for the store): trusted-users = root ${user}`,
  ].join('\n');
}

/** A substituter URL that is never in trusted-substituters: the daemon warns about it iff the user is not trusted. */
export const TRUST_PROBE = 'file:///devenv-trust-probe';

/**
 * Ask the daemon which of the project's substituters it would ignore (nix store ping with them
 * set: the daemon warns at once for a user who is not trusted). `runner` runs nix with the flags.
 */
export async function daemonIgnores(s: TeamSettings, runner: (args: string[]) => Promise<{stderr: string}>): Promise<{ignored: string[]; buildersIgnored: boolean}> {
  const subs = [...s.substituters, ...(s.builders.length ? [TRUST_PROBE] : [])];
  if (!subs.length) return {ignored: [], buildersIgnored: false};
  const {stderr} = await runner(['--option', 'extra-substituters', subs.join(' '), 'store', 'ping']);
  const ignored = parseNixActivity(stderr).ignoredSubstituters;
  return {ignored: ignored.filter((u) => s.substituters.includes(u)), buildersIgnored: ignored.includes(TRUST_PROBE)};
}
