// The user's own config: $XDG_CONFIG_HOME/devenv/config.toml. Only [trust] prefixes for now.
// A tiny comment-aware reader (the hot path loads no TOML parser): comments are masked before
// anything is matched, so a commented-out prefix is not a prefix, and the writer only inserts
// into the list, keeping every comment.
import {join} from 'node:path';
import {configDir} from '../paths.js';
import {readFileOrNull, writeFileAtomic} from '../util/fs.js';

export interface UserConfig {
  trust?: {prefixes?: string[]};
}

export const userConfigFile = (): string => join(configDir(), 'config.toml');

/** The text with every comment replaced by spaces (same length, so offsets still match). */
export function maskComments(text: string): string {
  let out = '';
  let quote: string | null = null;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quote) {
      if (quote === '"' && c === '\\') {
        out += c + (text[i + 1] ?? '');
        i++;
        continue;
      }
      if (c === quote || c === '\n') quote = null;
      out += c;
    } else if (c === '"' || c === "'") {
      quote = c;
      out += c;
    } else if (c === '#') {
      let j = i;
      while (j < text.length && text[j] !== '\n') j++;
      out += ' '.repeat(j - i);
      i = j - 1;
    } else out += c;
  }
  return out;
}

/** Where `[trust]`'s `prefixes = [...]` list sits in the text: [start of '[', index of ']'], if any. */
function prefixList(masked: string): {section?: number; open?: number; close?: number} {
  const head = /^[ \t]*\[trust\][ \t]*$/m.exec(masked);
  if (!head) return {};
  const from = head.index + head[0].length;
  const next = /^[ \t]*\[/m.exec(masked.slice(from));
  const body = masked.slice(from, next ? from + next.index : masked.length);
  const m = /^[ \t]*prefixes[ \t]*=[ \t]*\[/m.exec(body);
  if (!m) return {section: from};
  const open = from + m.index + m[0].length - 1;
  const close = masked.indexOf(']', open);
  return close < 0 ? {section: from} : {section: from, open, close};
}

function strings(s: string): string[] {
  return [...s.matchAll(/"((?:[^"\\\n]|\\.)*)"|'([^'\n]*)'/g)].map((x) => (x[2] !== undefined ? x[2] : JSON.parse(`"${x[1]}"`)));
}

export function readUserConfig(): UserConfig {
  const text = readFileOrNull(userConfigFile());
  if (!text) return {};
  const masked = maskComments(text);
  const {section, open, close} = prefixList(masked);
  if (section === undefined) return {};
  if (open === undefined) return {trust: {}};
  return {trust: {prefixes: strings(masked.slice(open + 1, close))}};
}

/** Add one prefix to the list, leaving the rest of the file (comments included) as it was. */
export function addUserConfigPrefix(prefix: string): void {
  const file = userConfigFile();
  const text = readFileOrNull(file) ?? '';
  const masked = maskComments(text);
  const {section, open, close} = prefixList(masked);
  const item = JSON.stringify(prefix);
  let next: string;
  if (open !== undefined && close !== undefined) {
    // After the last item (not after a trailing comment), before the ']'.
    const inner = masked.slice(open + 1, close);
    const lastItem = inner.replace(/[\s,]+$/, '').length;
    const at = open + 1 + lastItem;
    next = text.slice(0, at) + (lastItem ? ', ' : '') + item + text.slice(at);
  } else if (section !== undefined) {
    next = `${text.slice(0, section)}\nprefixes = [${item}]${text.slice(section)}`;
  } else {
    next = `${text}${text && !text.endsWith('\n') ? '\n' : ''}${text ? '\n' : ''}[trust]\nprefixes = [${item}]\n`;
  }
  writeFileAtomic(file, next);
}
