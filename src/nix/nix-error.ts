// One line out of nix's multi-line error report, for logs and doctor.

/** "error: syntax error, unexpected ';' (at flake.nix:1:42)"; falls back to the last meaningful lines. */
export function summarizeNixError(text: string): string {
  const lines = text.split('\n').map((l) => l.trim());
  const i = lines.findIndex((l) => l.startsWith('error:'));
  if (i < 0) {
    const rest = lines.filter((l) => l && !l.startsWith('warning:'));
    return rest.slice(-2).join(' | ') || 'unknown error';
  }
  const at = lines.slice(i + 1).find((l) => l.startsWith('at '));
  // Nix reports the copy in the store; the user edits the file in the project.
  const where = at ? ` (${at.slice(3).replace(/:$/, '').replace(/\/nix\/store\/[0-9a-z]{32}-source\//, '')})` : '';
  return lines[i] + where;
}
