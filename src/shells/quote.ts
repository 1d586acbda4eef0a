// Quoting for POSIX-family shells (bash, zsh) and fish. Values arrive byte for byte.

/** bash/zsh ANSI-C quoting: printable ASCII as is (but \ and '), every other byte as \xNN. */
export function ansiCQuote(value: string): string {
  let out = "$'";
  for (const byte of Buffer.from(value, 'utf8')) {
    if (byte === 0x5c) out += '\\\\';
    else if (byte === 0x27) out += "\\'";
    else if (byte >= 0x20 && byte < 0x7f) out += String.fromCharCode(byte);
    else out += '\\x' + byte.toString(16).padStart(2, '0');
  }
  return out + "'";
}

/**
 * fish: single quotes (escaping \ and '), with control characters written outside the quotes
 * as \n, \t, \xNN. Printable unicode stays inside the quotes as UTF-8.
 */
export function fishQuote(value: string): string {
  if (value === '') return "''";
  let out = '';
  let open = false;
  for (const ch of value) {
    const code = ch.codePointAt(0)!;
    if (code < 0x20 || code === 0x7f) {
      if (open) {
        out += "'";
        open = false;
      }
      out += code === 0x0a ? '\\n' : code === 0x09 ? '\\t' : '\\x' + code.toString(16).padStart(2, '0');
      continue;
    }
    if (!open) {
      out += "'";
      open = true;
    }
    out += ch === '\\' ? '\\\\' : ch === "'" ? "\\'" : ch;
  }
  return open ? out + "'" : out;
}
