// Edit the top-level `packages` list of devenv.toml in the document's text: elements are
// inserted or cut out where they stand, so every comment (inline, between elements,
// commented-out entries), the spacing, the line layout and the rest of the file stay byte for
// byte. Nothing is re-serialised; the result is parsed again and checked before it is used.
import TOML from '@iarna/toml';
import {DevenvError} from '../errors.js';
import {nixAttributes, type Manifest} from './model.js';
import {parseManifest} from './parse.js';

interface Element {
  start: number; // offset of the string literal
  end: number; // just after it
  value: string;
}

interface ArraySpan {
  open: number; // offset of `[`
  close: number; // offset of the matching `]`
  elements: Element[];
}

/** End of the string literal starting at `i` (basic, literal or multi-line), or -1. */
function stringEnd(text: string, i: number): number {
  const q = text[i];
  const triple = text.startsWith(q.repeat(3), i);
  if (triple) {
    const close = text.indexOf(q.repeat(3), i + 3);
    return close === -1 ? -1 : close + 3;
  }
  for (let j = i + 1; j < text.length; j++) {
    if (text[j] === '\n') return -1;
    if (q === '"' && text[j] === '\\') {
      j++;
      continue;
    }
    if (text[j] === q) return j + 1;
  }
  return -1;
}

/** Offset of the first table header (`[x]`, `[[x]]`) at the start of a line, skipping strings and comments. */
function firstTableOffset(text: string): number {
  let lineStart = true;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '\n') {
      lineStart = true;
      continue;
    }
    if (c === ' ' || c === '\t' || c === '\r') continue;
    if (lineStart && c === '[') return i;
    lineStart = false;
    if (c === '#') {
      const nl = text.indexOf('\n', i);
      i = nl === -1 ? text.length : nl - 1;
    } else if (c === '"' || c === "'") {
      const e = stringEnd(text, i);
      if (e === -1) return -1;
      i = e - 1;
    } else if (c === '[') {
      // A value array: skip to its end so a `[` inside it is not taken for a table.
      const span = scanArray(text, i);
      if (!span) return -1;
      i = span.close;
    }
  }
  return -1;
}

/** The array opening at `open`: its closing bracket and its string elements (null if malformed or nested). */
function scanArray(text: string, open: number): ArraySpan | null {
  const elements: Element[] = [];
  for (let i = open + 1; i < text.length; i++) {
    const c = text[i];
    if (c === '#') {
      const nl = text.indexOf('\n', i);
      if (nl === -1) return null;
      i = nl;
    } else if (c === '"' || c === "'") {
      const end = stringEnd(text, i);
      if (end === -1) return null;
      let value: string;
      try {
        value = (TOML.parse(`v = ${text.slice(i, end)}`) as {v: string}).v;
      } catch {
        return null;
      }
      elements.push({start: i, end, value});
      i = end - 1;
    } else if (c === ']') {
      return {open, close: i, elements};
    } else if (c === '[') {
      return null;
    }
  }
  return null;
}

/** `packages = [` among the top-level keys (before the first table). */
function findPackagesArray(text: string): ArraySpan | null {
  const table = firstTableOffset(text);
  const head = table === -1 ? text : text.slice(0, table);
  const m = /^[ \t]*(?:packages|"packages"|'packages')[ \t]*=[ \t]*\[/m.exec(head);
  return m ? scanArray(text, m.index + m[0].length - 1) : null;
}

const lineStartOf = (text: string, i: number): number => text.lastIndexOf('\n', i - 1) + 1;
const lineEndOf = (text: string, i: number): number => {
  const nl = text.indexOf('\n', i);
  return nl === -1 ? text.length : nl;
};

/** Cut one element out. Alone on its line (with its comma and comment): the line goes. */
function removeElement(text: string, span: ArraySpan, el: Element): string {
  const ls = lineStartOf(text, el.start);
  const le = lineEndOf(text, el.end);
  const before = text.slice(ls, el.start);
  const after = text.slice(el.end, le);
  if (ls > span.open && le < span.close && /^\s*$/.test(before) && /^\s*,?\s*(#.*)?$/.test(after)) {
    return text.slice(0, ls) + text.slice(le + 1);
  }
  // Inline: take the element with the comma after it (and the spaces up to the next thing),
  // or, for the last element, the comma and spaces before it.
  const m = /^\s*,[ \t]*/.exec(text.slice(el.end, span.close));
  if (m) return text.slice(0, el.start) + text.slice(el.end + m[0].length);
  const prevComma = text.slice(span.open + 1, el.start).search(/,\s*$/);
  if (prevComma !== -1 && span.elements.indexOf(el) > 0) return text.slice(0, span.open + 1 + prevComma) + text.slice(el.end);
  return text.slice(0, el.start) + text.slice(el.end);
}

/** Append `items` after the last element, in the array's own layout. */
function appendElements(text: string, span: ArraySpan, items: string[]): string {
  const lits = items.map((s) => JSON.stringify(s));
  const last = span.elements[span.elements.length - 1];
  const multiline = text.slice(span.open, span.close).includes('\n');
  if (!multiline) {
    if (!last) return text.slice(0, span.open + 1) + lits.join(', ') + text.slice(span.open + 1);
    const trailing = /^\s*,/.exec(text.slice(last.end, span.close));
    if (trailing) {
      const at = last.end + trailing[0].length;
      return text.slice(0, at) + ' ' + lits.join(', ') + ',' + text.slice(at);
    }
    return text.slice(0, last.end) + ', ' + lits.join(', ') + text.slice(last.end);
  }
  if (!last) {
    // An empty multi-line list (perhaps only comments): new lines just before the `]` line.
    const ls = lineStartOf(text, span.close);
    const closeIndent = /^[ \t]*/.exec(text.slice(ls))![0];
    const onOwnLine = /^\s*$/.test(text.slice(ls, span.close));
    const inner = /\n([ \t]+)#/.exec(text.slice(span.open, span.close))?.[1] ?? closeIndent + '  ';
    const block = lits.map((l) => `${inner}${l},\n`).join('');
    return onOwnLine ? text.slice(0, ls) + block + text.slice(ls) : text.slice(0, span.close) + '\n' + block + text.slice(span.close);
  }
  // After the last element's line (its comma and comment stay), one element per line, with its indent.
  const ls = lineStartOf(text, last.start);
  const lineHead = text.slice(ls, last.start);
  const indent = /^\s*$/.test(lineHead) ? lineHead : /\n([ \t]*)["']/.exec(text.slice(span.open, span.close))?.[1] ?? '  ';
  const rest = text.slice(last.end, span.close);
  const comma = /^[ \t]*,/.exec(rest);
  let out = comma ? text : text.slice(0, last.end) + ',' + text.slice(last.end);
  const shift = comma ? 0 : 1;
  const le = lineEndOf(out, last.end + shift);
  if (le >= span.close + shift) {
    // The `]` is on the last element's line: break before it.
    const close = span.close + shift;
    const closeIndent = /^[ \t]*/.exec(text.slice(lineStartOf(text, span.open)))![0];
    return out.slice(0, close).replace(/[ \t]*$/, '') + '\n' + lits.map((l) => `${indent}${l},\n`).join('') + closeIndent + out.slice(close);
  }
  out = out.slice(0, le + 1) + lits.map((l) => `${indent}${l},\n`).join('') + out.slice(le + 1);
  return out;
}

/** The devenv.toml section that brings in `name` by itself, e.g. python311 -> [languages.python]. */
export function providedBy(m: Manifest, name: string): string | undefined {
  if (!nixAttributes({...m, packages: []}).includes(name)) return undefined;
  if (/^python\d+$/.test(name)) return '[languages.python]';
  if (/^nodejs/.test(name)) return '[languages.node]';
  if (name === 'rustc' || name === 'cargo') return '[languages.rust]';
  if (name === 'go') return '[languages.go]';
  if (/^postgresql_/.test(name)) return '[services.postgres]';
  return undefined;
}

export interface EditResult {
  text: string;
  changed: string[];
  skipped: string[];
  /** Skipped names that a section other than `packages` brings in, with that section. */
  providedBy?: Record<string, string>;
}

export function editPackages(text: string, op: 'add' | 'remove', names: string[], file = 'devenv.toml'): EditResult {
  const manifest = parseManifest(text, file);
  const current = [...(manifest.packages ?? [])];
  const changed: string[] = [];
  const skipped: string[] = [];
  const provided: Record<string, string> = {};
  for (const n of names) {
    const has = current.includes(n);
    if (op === 'add' ? has : !has) {
      if (!skipped.includes(n)) skipped.push(n);
      const section = op === 'remove' ? providedBy(manifest, n) : undefined;
      if (section) provided[n] = section;
      continue;
    }
    if (op === 'add') current.push(n);
    else current.splice(current.indexOf(n), 1);
    changed.push(n);
  }
  const extra = Object.keys(provided).length ? {providedBy: provided} : {};
  if (!changed.length) return {text, changed, skipped, ...extra};

  const refuse = () => new DevenvError(`could not edit ${file} safely; edit the packages list by hand`, {hint: `packages wanted: ${JSON.stringify(current)}`});
  let next = text;
  const span = findPackagesArray(text);
  if (span) {
    if (op === 'add') next = appendElements(text, span, changed);
    else {
      // Back to front, so earlier offsets stay valid.
      const gone = span.elements.filter((e) => changed.includes(e.value)).reverse();
      for (const el of gone) {
        const now = findPackagesArray(next);
        const target = now?.elements.find((e) => e.start === el.start);
        if (!now || !target) throw refuse();
        next = removeElement(next, now, target);
      }
    }
  } else if (op === 'add') {
    // No list yet: add one before the first table (top-level keys must precede tables).
    const table = firstTableOffset(text);
    const line = `packages = [${changed.map((s) => JSON.stringify(s)).join(', ')}]\n`;
    const at = table === -1 ? text.length : lineStartOf(text, table);
    const head = text.slice(0, at);
    next = head + (head && !head.endsWith('\n') ? '\n' : '') + line + (table === -1 ? '' : '\n') + text.slice(at).replace(/^\n+/, '');
  } else throw refuse();
  // Belt and braces: the edit must parse and hold exactly the intended list, and nothing else may differ.
  const check = parseManifest(next, file);
  const without = (t: string) => {
    const o = TOML.parse(t) as Record<string, unknown>;
    delete o.packages;
    return JSON.stringify(o);
  };
  if (JSON.stringify(check.packages ?? []) !== JSON.stringify(current) || without(next) !== without(text)) throw refuse();
  return {text: next, changed, skipped, ...extra};
}
