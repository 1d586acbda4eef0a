// `devenv watch --print-service`: a systemd user unit or a launchd agent that runs the watcher
// at login, with absolute paths (a login service has no useful PATH of its own).
import {PREFIX} from '../shells/protocol.js';

export type ServiceFormat = 'systemd' | 'launchd';

export interface ServiceSpec {
  node: string;
  bin: string;
  /** Extra `watch` arguments (project dirs). */
  args: string[];
  /** Variables the watcher needs to find nix and to compute the same cache keys as the shell. */
  env: Record<string, string>;
  /** launchd log file (absolute). */
  logFile?: string;
}

/** What to carry into the service: PATH (nix), the XDG dirs and devenv's own settings, when set. */
export const SERVICE_ENV_VARS = [
  'PATH',
  'NIX_PATH',
  'NIX_REMOTE',
  'NIX_CONFIG',
  'NIX_SSL_CERT_FILE',
  'XDG_CONFIG_HOME',
  'XDG_CACHE_HOME',
  'XDG_STATE_HOME',
  'XDG_DATA_HOME',
  'XDG_RUNTIME_DIR',
  'DEVENV_NIXPKGS',
  'DEVENV_STRICT',
];

export function serviceEnv(env: NodeJS.ProcessEnv): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k of SERVICE_ENV_VARS) if (env[k] !== undefined && env[k] !== '') out[k] = env[k]!;
  // Printed from inside a loaded project: leave out the entries that project's activation added.
  const added = new Set([env[`${PREFIX.pre}PATH`], env[`${PREFIX.post}PATH`]].join(':').split(':').filter(Boolean));
  if (out.PATH && added.size) out.PATH = out.PATH.split(':').filter((d) => !added.has(d)).join(':');
  return out;
}

/** systemd quoting: double quotes with `\` and `"` escaped, `%` doubled (specifiers), newlines as \n;
 *  in ExecStart `$` is variable expansion, so it is doubled there too. */
export function systemdQuote(s: string, exec = false): string {
  const q = s.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n').replace(/%/g, '%%');
  return '"' + (exec ? q.replace(/\$/g, '$$$$') : q) + '"';
}

export function renderSystemdUnit(s: ServiceSpec): string {
  const exec = [s.node, s.bin, 'watch', ...s.args].map((a) => systemdQuote(a, true)).join(' ');
  const lines = [
    '# devenv watcher: re-evaluates allowed projects after edits, so cd and `devenv exec` never wait.',
    '# Install:',
    '#   devenv watch --print-service > ~/.config/systemd/user/devenv-watch.service',
    '#   systemctl --user daemon-reload && systemctl --user enable --now devenv-watch',
    '# Logs: journalctl --user -u devenv-watch',
    '[Unit]',
    'Description=devenv watcher (background re-evaluation of allowed projects)',
    '',
    '[Service]',
    'Type=simple',
    `ExecStart=${exec}`,
    ...Object.entries(s.env).map(([k, v]) => `Environment=${systemdQuote(`${k}=${v}`)}`),
    'Restart=on-failure',
    'RestartSec=30',
    'Nice=10',
    '',
    '[Install]',
    'WantedBy=default.target',
  ];
  return lines.join('\n') + '\n';
}

export function xmlEscape(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&apos;');
}

export function renderLaunchdPlist(s: ServiceSpec): string {
  const str = (v: string) => `<string>${xmlEscape(v)}</string>`;
  const lines = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    '<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">',
    // No double hyphen may appear inside an XML comment, so the comment does not quote the command.
    '<!-- devenv watcher. Save as ~/Library/LaunchAgents/org.devenv.watch.plist, then run:',
    '     launchctl load -w ~/Library/LaunchAgents/org.devenv.watch.plist -->',
    '<plist version="1.0">',
    '<dict>',
    '  <key>Label</key>',
    '  <string>org.devenv.watch</string>',
    '  <key>ProgramArguments</key>',
    '  <array>',
    ...[s.node, s.bin, 'watch', ...s.args].map((a) => `    ${str(a)}`),
    '  </array>',
    '  <key>EnvironmentVariables</key>',
    '  <dict>',
    ...Object.entries(s.env).flatMap(([k, v]) => [`    <key>${xmlEscape(k)}</key>`, `    ${str(v)}`]),
    '  </dict>',
    '  <key>RunAtLoad</key>',
    '  <true/>',
    '  <key>KeepAlive</key>',
    '  <dict>',
    '    <key>SuccessfulExit</key>',
    '    <false/>',
    '  </dict>',
    '  <key>ThrottleInterval</key>',
    '  <integer>30</integer>',
    '  <key>ProcessType</key>',
    '  <string>Background</string>',
    ...(s.logFile ? ['  <key>StandardOutPath</key>', `  ${str(s.logFile)}`, '  <key>StandardErrorPath</key>', `  ${str(s.logFile)}`] : []),
    '</dict>',
    '</plist>',
  ];
  return lines.join('\n') + '\n';
}
