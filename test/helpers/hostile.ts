// Values that break naive quoting in bash, zsh or fish. `marker` is a file that must never
// appear: every value that could run code touches it when (wrongly) evaluated.

/**
 * `viaNix`: only what survives `nix print-dev-env --json`, whose JSON writer does not escape
 * control characters other than \t, \n, \r (an ESC makes it print invalid JSON).
 */
export function hostileValues(marker: string, opts: {viaNix?: boolean} = {}): Record<string, string> {
  const chunk = `ab$\`\\'"\n%é-ü ${'\t'}[*]{a,b}~`;
  let big = '';
  while (big.length < 5200) big += chunk;
  return {
    NL_VAL: 'line one\nline two\n\n',
    QUOTE_VAL: `it's "double" and 'single' \\' '\\'' "\\"`,
    DOLLAR_VAL: `$HOME \${HOME} $(touch ${marker}) $((6*7)) $1 $@ $$ \${PATH:0:1} $'x'`,
    BACKTICK_VAL: `\`touch ${marker}\` \`\``,
    BACKSLASH_VAL: 'a\\b\\\\c\\n\\t\\x41\\u0041\\e\\',
    PERCENT_VAL: '100% %s %d %n %% %(%)T %H %1$s',
    DASH_VAL: '-n -e --',
    EMPTY_VAL: '',
    UNICODE_VAL: 'héllo wörld ✓ 日本語 🎉 \u00a0\u200b',
    CTRL_VAL: opts.viaNix ? 'tab\there cr\rhere del\x7f' : 'tab\there cr\rhere esc\x1b[31mred\x1b[0m del\x7f bell\x07 soh\x01',
    GLOB_VAL: '* ? [a-z] ~ ~root {a,b} !! !$ ^a^b',
    SEMI_VAL: `; touch ${marker} && echo | cat > /dev/null < /dev/null & #`,
    BIG_VAL: big,
  };
}

/** A TOML basic string holding exactly `s` (control characters and DEL escaped). */
export function tomlString(s: string): string {
  let out = '"';
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if (ch === '\\') out += '\\\\';
    else if (ch === '"') out += '\\"';
    else if (ch === '\n') out += '\\n';
    else if (ch === '\t') out += '\\t';
    else if (c < 0x20 || c === 0x7f) out += '\\u' + c.toString(16).padStart(4, '0');
    else out += ch;
  }
  return out + '"';
}
