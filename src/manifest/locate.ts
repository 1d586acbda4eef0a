// Find the line and column of a key path in TOML text, for error messages.
// A light scan (table headers + key lines), not a parser: good enough to point at the line.

function splitKey(raw: string): string[] {
  const parts: string[] = [];
  const re = /\s*(?:"((?:[^"\\]|\\.)*)"|'([^']*)'|([A-Za-z0-9_-]+))\s*(?:\.|$)/gy;
  let m: RegExpExecArray | null;
  while (re.lastIndex < raw.length && (m = re.exec(raw))) parts.push(m[1] ?? m[2] ?? m[3]);
  return parts;
}

export interface Location {
  line: number; // 1-based
  col: number; // 1-based
}

export function locateKey(text: string, path: string[]): Location | undefined {
  const lines = text.split('\n');
  let table: string[] = [];
  let best: {loc: Location; len: number} | undefined;
  const consider = (full: string[], loc: Location) => {
    let n = 0;
    while (n < full.length && n < path.length && full[n] === path[n]) n++;
    if (n === 0 || n < Math.min(full.length, path.length)) return;
    if (!best || n > best.len) best = {loc, len: n};
  };
  lines.forEach((line, i) => {
    const header = /^(\s*)\[\[?\s*([^\]]+?)\s*\]\]?/.exec(line);
    if (header) {
      table = splitKey(header[2]);
      consider(table, {line: i + 1, col: header[1].length + 1});
      return;
    }
    const kv = /^(\s*)((?:"(?:[^"\\]|\\.)*"|'[^']*'|[A-Za-z0-9_.\s'"-])+?)\s*=/.exec(line);
    if (kv) consider([...table, ...splitKey(kv[2])], {line: i + 1, col: kv[1].length + 1});
  });
  return best?.loc;
}
