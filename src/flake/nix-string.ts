// Nix string escaping lives here and only here.

/** A Nix double-quoted string literal holding exactly `s`. Every `$` is escaped, so no `${` can start an antiquotation. */
export function nixString(s: string): string {
  let out = '"';
  for (const ch of s) {
    switch (ch) {
      case '\\': out += '\\\\'; break;
      case '"': out += '\\"'; break;
      case '$': out += '\\$'; break;
      case '\n': out += '\\n'; break;
      case '\r': out += '\\r'; break;
      case '\t': out += '\\t'; break;
      default: out += ch;
    }
  }
  return out + '"';
}

const KEYWORDS = new Set(['if', 'then', 'else', 'assert', 'with', 'let', 'in', 'rec', 'inherit', 'or']);

/** An attribute name: bare when it is a plain identifier, quoted otherwise. */
export function nixAttrName(name: string): string {
  return /^[A-Za-z_][A-Za-z0-9_'-]*$/.test(name) && !KEYWORDS.has(name) ? name : nixString(name);
}

/** `pkgs.a.b` for a dotted attribute path. */
export function nixAttrPath(base: string, dotted: string): string {
  return [base, ...dotted.split('.').map(nixAttrName)].join('.');
}
