#!/usr/bin/env node
// CommonJS on purpose (bin/package.json): a new terminal's `devenv hook <shell>` prints a cached
// text without starting Node's ESM loader, which alone costs about a fifth of `node -e 0`.
// Hot commands (exec, the hook's internal calls) skip oclif entirely: loading it alone
// costs more than the whole warm path. Everything else goes to oclif; whatever it throws
// (usage errors included) is printed by the one presenter, dist/cli/present.js.
'use strict';
const {join} = require('node:path');

const argv = process.argv.slice(2);
// Set by bin/devenv (the sh launcher) for this process only: not for what it runs.
const launcher = process.env.DEVENV_LAUNCHER;
const launcherNode = process.env.DEVENV_LAUNCHER_NODE;
delete process.env.DEVENV_LAUNCHER;
delete process.env.DEVENV_LAUNCHER_NODE;
const HOT = new Set(['exec', '__hook', '__refresh', '__setup', '__autostart']);
// Tried without oclif; what they leave (an unusual spelling) goes on to oclif (src/cli/light.ts).
const LIGHT = new Set(['ps', 'status', 'down', 'logs', 'up']);
const ROOT = join(__dirname, '..');
// `devenv hook <shell>` runs in every new terminal: hot too, for the three shells it knows.
const hotHook = argv[0] === 'hook' && argv.length === 2 && ['bash', 'zsh', 'fish'].includes(argv[1]);

// `devenv --help`: oclif's text, kept beside the hook's by the last run that went through oclif.
const helpCall = argv.length === 1 && argv[0] === '--help';
const helpWidth = () => `${process.stdout.isTTY ? process.stdout.columns : '-'}/${process.env.COLUMNS ?? ''}`;

let cached;
if (hotHook || helpCall) {
  try {
    const c = require('../dist/cjs/activation/hook-cache.js');
    cached = hotHook ? c.cachedHook(argv[1], join(ROOT, 'dist')) : c.cachedText('help', c.helpKey(join(ROOT, 'dist'), helpWidth()));
  } catch {}
}

async function main() {
  if (cached !== undefined) {
    process.stdout.write(cached);
  } else if (argv.length === 1 && argv[0] === '--version') {
    // What oclif prints (its config.userAgent), without loading it.
    process.stdout.write(`devenv/${require('../package.json').version} ${process.platform}-${process.arch} node-${process.version}\n`);
  } else if (LIGHT.has(argv[0]) && (await light()) !== undefined) {
    // printed, exit code set
  } else if (hotHook || (HOT.has(argv[0]) && !argv.includes('--help') && !(argv[0] === 'exec' && argv[1] !== '--' && argv[1]?.startsWith('-')))) {
    const {runHot} = await import('../dist/hot.js');
    const code = await runHot(argv);
    process.exitCode = code;
  } else {
    const {run, flush} = await import('@oclif/core');
    const out = [];
    const write = process.stdout.write;
    if (helpCall) process.stdout.write = (chunk, ...rest) => (out.push(String(chunk)), write.call(process.stdout, chunk, ...rest));
    try {
      // The package root, not this file: oclif looks for package.json from here, and bin/ has its own.
      await run(argv, ROOT);
      await flush();
      if (helpCall && !process.exitCode) {
        const c = require('../dist/cjs/activation/hook-cache.js');
        c.saveText('help', c.helpKey(join(ROOT, 'dist'), helpWidth()), out.join(''));
      }
    } catch (err) {
      const {presentError, wantsJson} = await import('../dist/cli/present.js');
      const {readFileSync} = require('node:fs');
      let commands = [];
      try {
        commands = Object.keys(JSON.parse(readFileSync(join(ROOT, 'oclif.manifest.json'), 'utf8')).commands);
      } catch {}
      process.exitCode = presentError(err, {json: wantsJson(argv), commands, argv});
    }
  }
}
async function light() {
  const {runHot} = await import('../dist/hot.js');
  const code = await runHot(argv);
  if (code !== undefined) process.exitCode = code;
  return code;
}
main().then(() => {
  // The launcher found no text it could print itself: leave it one for the next terminal.
  if (hotHook && launcher && !process.exitCode) {
    try {
      require('../dist/cjs/activation/hook-cache.js').saveLaunchText(argv[1], ROOT, launcher, launcherNode ?? '');
    } catch {}
  }
});
