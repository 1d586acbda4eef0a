// Edit the top-level `packages` list of devenv.toml in place, keeping everything
// else (comments, order, formatting) byte for byte.
import TOML from '@iarna/toml';
import {DevenvError} from '../errors.js';
import {parseManifest} from './parse.js';

interface ArraySpan {
  start: number; // offset of `packages`
  end: number; // offset just after the closing ]
  indent: string;
}

/** Find `packages = [ ... ]` before the first table header. */
function findPackagesArray(text: string): ArraySpan | null {
  const firstTable = text.search(/^\s*\[/m);
  const head = firstTable === -1 ? text : text.slice(0, firstTable);
  const m = /^([ \t]*)packages[ \t]*=[ \t]*\[/m.exec(head);
  if (!m) return null;
  // Walk to the matching ], skipping strings and comments.
  let i = m.index + m[0].length;
  let depth = 1;
  while (i < text.length && depth > 0) {
    const c = text[i];
    if (c === '"' || c === "'") {
      const close = text.indexOf(c, i + 1);
      i = close === -1 ? text.length : close + 1;
      continue;
    }
    if (c === '#') {
      const nl = text.indexOf('\n', i);
      i = nl === -1 ? text.length : nl;
      continue;
    }
    if (c === '[') depth++;
    if (c === ']') depth--;
    i++;
  }
  return {start: m.index + m[1].length, end: i, indent: m[1]};
}

function renderArray(items: string[], multiline: boolean, indent: string): string {
  if (!multiline || items.length === 0) return `packages = [${items.map((s) => JSON.stringify(s)).join(', ')}]`;
  return `packages = [\n${items.map((s) => `${indent}  ${JSON.stringify(s)},`).join('\n')}\n${indent}]`;
}

export interface EditResult {
  text: string;
  changed: string[];
  skipped: string[];
}

export function editPackages(text: string, op: 'add' | 'remove', names: string[], file = 'devenv.toml'): EditResult {
  const manifest = parseManifest(text, file);
  const current = [...(manifest.packages ?? [])];
  const changed: string[] = [];
  const skipped: string[] = [];
  for (const n of names) {
    const has = current.includes(n);
    if (op === 'add' ? has : !has) {
      skipped.push(n);
      continue;
    }
    if (op === 'add') current.push(n);
    else current.splice(current.indexOf(n), 1);
    changed.push(n);
  }
  if (!changed.length) return {text, changed, skipped};

  const span = findPackagesArray(text);
  let next: string;
  if (span) {
    const multiline = text.slice(span.start, span.end).includes('\n');
    next = text.slice(0, span.start) + renderArray(current, multiline, span.indent) + text.slice(span.end);
  } else {
    // No list yet: add one before the first table (top-level keys must precede tables).
    const firstTable = text.search(/^\s*\[/m);
    const line = renderArray(current, false, '') + '\n';
    next = firstTable === -1 ? text + (text.endsWith('\n') || !text ? '' : '\n') + line : text.slice(0, firstTable) + line + '\n' + text.slice(firstTable).replace(/^\n+/, '');
  }
  // Belt and braces: the edit must parse and hold exactly the intended list.
  const check = parseManifest(next, file);
  const without = (t: string) => {
    const o = TOML.parse(t) as Record<string, unknown>;
    delete o.packages;
    return JSON.stringify(o);
  };
  if (JSON.stringify(check.packages ?? []) !== JSON.stringify(current) || without(next) !== without(text)) {
    throw new DevenvError(`could not edit ${file} safely; edit the packages list by hand`, {hint: `packages wanted: ${JSON.stringify(current)}`});
  }
  return {text: next, changed, skipped};
}
