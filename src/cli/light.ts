// ps, status, down, logs and up -d without oclif (bin/run.js -> hot.ts): loading oclif alone costs
// more than these commands' whole work. Only the plain spellings are taken here; anything else
// (--help, an unknown or repeated flag, -n5, DEVENV_CONTENT_TYPE) returns undefined and goes
// to oclif, which parses and reports it as before. Output and exit codes are the commands'
// own: the same views (views.ts), JSON printed as oclif prints it, errors through present.ts.
import {presentError} from './present.js';
import {currentDir} from '../usecases/cwd.js';
import {downLine, psLines, statusLines} from './views.js';

type Parsed = {json: boolean; names: string[]; follow: boolean; lines?: number; detach: boolean};

function parse(cmd: string, rest: string[]): Parsed | undefined {
  const p: Parsed = {json: false, names: [], follow: false, detach: false};
  for (let i = 0; i < rest.length; i++) {
    const a = rest[i];
    if (a === '--json' && !p.json) p.json = true;
    else if ((a === '-d' || a === '--detach') && cmd === 'up' && !p.detach) p.detach = true;
    else if ((a === '-f' || a === '--follow') && cmd === 'logs' && !p.follow) p.follow = true;
    else if ((a === '-n' || a === '--lines') && cmd === 'logs' && p.lines === undefined && /^\d+$/.test(rest[i + 1] ?? '')) p.lines = Number(rest[++i]);
    else if (!a.startsWith('-') && (cmd === 'down' || cmd === 'up' || (cmd === 'logs' && !p.names.length))) p.names.push(a);
    else return undefined;
  }
  // `up` in the foreground streams logs until Ctrl-C: oclif's start-up is nothing there.
  return cmd === 'up' && !p.detach ? undefined : p;
}

const print = (line: string) => process.stdout.write(line + '\n');
const printJson = (value: unknown) => print(JSON.stringify(value, null, 2));

/** The exit code, or undefined: not a spelling taken here (oclif runs the command). */
export async function runLight(argv: string[]): Promise<number | undefined> {
  const [cmd, ...rest] = argv;
  if (process.env.DEVENV_CONTENT_TYPE !== undefined || process.env.DEVENV_LIGHT === '0') return undefined;
  const p = parse(cmd, rest);
  if (!p) return undefined;
  try {
    if (cmd === 'ps') {
      const {listServices} = await import('../usecases/services.js');
      const r = await listServices(currentDir());
      const {out, err} = psLines(r, p.json);
      for (const l of err) process.stderr.write(l + '\n');
      if (p.json) printJson(r);
      else out.forEach(print);
    } else if (cmd === 'status') {
      const {projectStatus} = await import('../usecases/status.js');
      const s = await projectStatus(currentDir());
      if (p.json) printJson(s);
      else statusLines(s).forEach(print);
    } else if (cmd === 'down') {
      const {downAt} = await import('../usecases/services.js');
      const {ServiceError} = await import('../errors.js');
      const {root, services, errors} = await downAt(currentDir(), p.names, (r) => p.json || print(downLine(r)));
      if (errors.length) throw new ServiceError(`could not stop everything:\n    ${errors.join('\n    ')}`, "see 'devenv ps'");
      if (p.json) printJson({root, services});
    } else if (cmd === 'up') {
      const {upDetached} = await import('../usecases/services.js');
      const {describeStart, describeTask, noteWriter} = await import('./units.js');
      // As commands/up.ts with -d: task output on stderr, the summary (or --json) on stdout.
      const r = await upDetached(currentDir(), p.names, {
        line: (l) => p.json || process.stderr.write(l + '\n'),
        note: noteWriter(p.json),
        started: (x) => p.json || print(describeStart(x)),
        task: (x) => p.json || print(describeTask(x)),
        colour: false,
      });
      if (p.json) printJson(r);
    } else if (p.json) {
      printJson(await jsonLogs(currentDir(), p.names[0], {follow: p.follow, lines: p.lines}));
    } else {
      await printLogs(currentDir(), p.names[0], {follow: p.follow, lines: p.lines});
    }
    return 0;
  } catch (e) {
    return presentError(e, {json: p.json});
  }
}

/** `devenv logs --json`: the lines each log has now (it cannot follow). */
export async function jsonLogs(cwd: string, name: string | undefined, opts: {follow: boolean; lines?: number}) {
  const {UsageError} = await import('../errors.js');
  if (opts.follow) throw new UsageError('--json cannot follow', 'use: devenv logs --json [-n N] [name]');
  const {readLogsAt} = await import('../usecases/services.js');
  return readLogsAt(cwd, name, opts.lines);
}

/** `devenv logs`: the oclif command and the light path both print through this. */
export async function printLogs(cwd: string, name: string | undefined, opts: {follow: boolean; lines?: number}): Promise<void> {
  const {fileSize, followFile, logFilesAt, tailLines} = await import('../usecases/services.js');
  const logs = await logFilesAt(cwd, name);
  const width = Math.max(...logs.map((s) => s.name.length));
  const prefix = (n: string) => (logs.length > 1 ? `${n.padEnd(width)} | ` : '');
  const starts = new Map<string, number>();
  for (const s of logs) {
    const size = fileSize(s.logFile);
    starts.set(s.name, size);
    if (!size) {
      if (!opts.follow && name) process.stderr.write(`devenv: ${s.name} has no log yet (${s.logFile}); 'devenv up' starts it\n`);
      continue;
    }
    for (const l of tailLines(s.logFile, opts.lines ?? Number.MAX_SAFE_INTEGER, true)) print(prefix(s.name) + l);
  }
  if (!opts.follow) return;
  const abort = new AbortController();
  const stop = () => abort.abort();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  await Promise.all(logs.map((s) => followFile(s.logFile, starts.get(s.name)!, (l) => print(prefix(s.name) + l), abort.signal)));
}
