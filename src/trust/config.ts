// The user's own config: $XDG_CONFIG_HOME/devenv/config.toml. Only [trust] prefixes for now.
import {join} from 'node:path';
import {configDir} from '../paths.js';
import {readFileOrNull, writeFileAtomic} from '../util/fs.js';

export interface UserConfig {
  trust?: {prefixes?: string[]};
}

export const userConfigFile = (): string => join(configDir(), 'config.toml');

/** A tiny reader for the one list we need, so the hot path does not load a TOML parser. */
export function readUserConfig(): UserConfig {
  const text = readFileOrNull(userConfigFile());
  if (!text) return {};
  const section = /^\s*\[trust\]\s*$([\s\S]*?)(?=^\s*\[|$(?![\s\S]))/m.exec(text);
  if (!section) return {};
  const m = /^\s*prefixes\s*=\s*\[([\s\S]*?)\]/m.exec(section[1]);
  if (!m) return {trust: {}};
  const prefixes = [...m[1].matchAll(/"((?:[^"\\]|\\.)*)"|'([^']*)'/g)].map((x) => (x[2] !== undefined ? x[2] : JSON.parse(`"${x[1]}"`)));
  return {trust: {prefixes}};
}

export function writeUserConfigPrefixes(prefixes: string[]): void {
  const file = userConfigFile();
  const text = readFileOrNull(file) ?? '';
  const line = `prefixes = [${prefixes.map((p) => JSON.stringify(p)).join(', ')}]`;
  let next: string;
  if (/^\s*\[trust\]\s*$/m.test(text)) {
    const hasList = /(^\s*\[trust\]\s*$[\s\S]*?)^\s*prefixes\s*=\s*\[[\s\S]*?\]/m;
    next = hasList.test(text) ? text.replace(hasList, (_m, head) => head + line) : text.replace(/^\s*\[trust\]\s*$/m, (h) => `${h}\n${line}`);
  } else {
    next = `${text}${text && !text.endsWith('\n') ? '\n' : ''}${text ? '\n' : ''}[trust]\n${line}\n`;
  }
  writeFileAtomic(file, next);
}
