#!/usr/bin/env node
// Hot commands (exec, the hook's internal calls) skip oclif entirely: loading it alone
// costs more than the whole warm path. Everything else goes to oclif; whatever it throws
// (usage errors included) is printed by the one presenter, dist/cli/present.js.
const argv = process.argv.slice(2);
const HOT = new Set(['exec', '__hook', '__refresh', '__setup']);
// `devenv hook <shell>` runs in every new terminal: hot too, for the three shells it knows.
const hotHook = argv[0] === 'hook' && argv.length === 2 && ['bash', 'zsh', 'fish'].includes(argv[1]);

let cached;
if (hotHook) {
  try {
    cached = (await import('../dist/activation/hook-cache.js')).cachedHook(argv[1]);
  } catch {}
}

if (cached !== undefined) {
  process.stdout.write(cached);
} else if (hotHook || (HOT.has(argv[0]) && !argv.includes('--help') && !(argv[0] === 'exec' && argv[1] !== '--' && argv[1]?.startsWith('-')))) {
  const {runHot} = await import('../dist/hot.js');
  const code = await runHot(argv);
  process.exitCode = code;
} else {
  const {run, flush} = await import('@oclif/core');
  try {
    await run(argv, import.meta.url);
    await flush();
  } catch (err) {
    const {presentError, wantsJson} = await import('../dist/cli/present.js');
    const {readFileSync} = await import('node:fs');
    let commands = [];
    try {
      commands = Object.keys(JSON.parse(readFileSync(new URL('../oclif.manifest.json', import.meta.url), 'utf8')).commands);
    } catch {}
    process.exitCode = presentError(err, {json: wantsJson(argv), commands, argv});
  }
}
