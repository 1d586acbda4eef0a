// `devenv mcp`: a Model Context Protocol server over stdio, so a coding agent works in the
// project's environment. Each tool calls the same use case as its command and returns the same
// JSON as that command's --json; errors come back as the same error object (isError set).
// Trust is the hook's: what runs the project's code (exec, up, run) and the environment's
// names are refused for a project that is not allowed. Loaded only by the mcp command: the
// SDK is never on the hot path.
import {isAbsolute, resolve} from 'node:path';
import {McpServer} from '@modelcontextprotocol/sdk/server/mcp.js';
import {StdioServerTransport} from '@modelcontextprotocol/sdk/server/stdio.js';
import {z} from 'zod';
import {NotAllowedError, ServiceError} from '../errors.js';
import {errorJson, toDevenvError} from './present.js';
import type {UpIO} from '../usecases/services.js';

type Content = {type: 'text'; text: string};
type ToolResult = {content: Content[]; structuredContent?: Record<string, unknown>; isError?: boolean};

const json = (v: unknown): string => JSON.stringify(v, null, 2);

/** Run a use case; its result (or error) as the command's --json would print it. `extra`: task output, as a second text. */
async function answer(f: () => Promise<unknown>, extra?: () => string): Promise<ToolResult> {
  try {
    const value = await f();
    const content: Content[] = [{type: 'text', text: json(value)}];
    const more = extra?.();
    if (more) content.push({type: 'text', text: more});
    return {content, structuredContent: value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : {value}};
  } catch (e) {
    const err = toDevenvError(e);
    const more = extra?.();
    return {content: [{type: 'text', text: json(errorJson(err))}, ...(more ? [{type: 'text' as const, text: more}] : [])], isError: true};
  }
}

/** Collects what tasks and processes print (devenv's own notes included), bounded. */
function collector(max = 1 << 20): {io: UpIO; text: () => string} {
  const lines: string[] = [];
  let size = 0;
  let dropped = 0;
  const add = (l: string) => {
    if (size + l.length > max) dropped++;
    else {
      lines.push(l);
      size += l.length + 1;
    }
  };
  return {io: {line: add, note: add, colour: false}, text: () => (lines.length ? lines.join('\n') + (dropped ? `\n[${dropped} more lines dropped]` : '') : '')};
}

async function requireTrusted(root: string): Promise<void> {
  const {checkTrust} = await import('../trust/trust.js');
  const t = checkTrust(root);
  if (!t.trusted) throw new NotAllowedError(root, t.state === 'denied' ? 'is denied' : t.state === 'changed' ? 'changed since it was allowed' : 'is not allowed');
}

export interface McpOptions {
  /** The directory the server works from (tools may name another, relative to it). */
  cwd: string;
  version: string;
}

export function buildServer(o: McpOptions): McpServer {
  const server = new McpServer({name: 'devenv', version: o.version}, {instructions: "devenv: the project's Nix environment, services and tasks. Tools act on the project around `cwd` (default: where the server was started). exec, up and run need the project to be allowed ('devenv allow', by the user)."});
  const at = (cwd?: string): string => (!cwd ? o.cwd : isAbsolute(cwd) ? cwd : resolve(o.cwd, cwd));
  const cwd = z.string().optional().describe('directory inside the project (default: where the server was started); relative to it');
  const names = z.array(z.string()).optional().describe('services or processes (default: all)');
  const svc = () => import('../usecases/services.js');

  server.registerTool('status', {
    description: "The project's root, trust, cache freshness, last evaluation, services and watcher: `devenv status --json`.",
    inputSchema: {cwd},
    annotations: {readOnlyHint: true},
  }, ({cwd: c}) => answer(async () => (await import('../usecases/status.js')).projectStatus(at(c))));

  server.registerTool('exec', {
    description: "Run a command in the project's environment (its packages on PATH, its variables and services' ports). Refused unless the project is allowed. Returns the exit code and the captured stdout/stderr; stdin is closed. For a shell line pass [\"bash\", \"-c\", \"...\"].",
    inputSchema: {
      argv: z.array(z.string()).min(1).describe('the command and its arguments'),
      cwd,
      timeoutSeconds: z.number().positive().max(86400).optional().describe('end the command (its whole process group) after this long; default 600'),
    },
  }, ({argv, cwd: c, timeoutSeconds}) => answer(async () => (await import('../usecases/exec.js')).execCaptured({cwd: at(c), argv, timeoutMs: (timeoutSeconds ?? 600) * 1000})));

  server.registerTool('up', {
    description: "Start the project's services and processes (and the tasks they need) in the background; returns once they are ready: `devenv up -d --json`. Refused unless the project is allowed.",
    inputSchema: {names, cwd},
  }, ({names: n, cwd: c}) => {
    const out = collector();
    return answer(async () => {
      const {openProject} = await import('../project/project.js');
      await requireTrusted(openProject(at(c)).root);
      return (await svc()).upDetached(at(c), n ?? [], out.io);
    }, out.text);
  });

  server.registerTool('down', {
    description: "Stop the project's services and processes: `devenv down --json`.",
    inputSchema: {names, cwd},
    annotations: {destructiveHint: false, idempotentHint: true},
  }, ({names: n, cwd: c}) => answer(async () => {
    const {root, services, errors} = await (await svc()).downAt(at(c), n ?? [], () => {});
    if (errors.length) throw new ServiceError(`could not stop everything:\n    ${errors.join('\n    ')}`, "see 'devenv ps'");
    return {root, services};
  }));

  server.registerTool('ps', {
    description: "The project's services and processes: state, pid, port, restarts, readiness: `devenv ps --json`.",
    inputSchema: {cwd},
    annotations: {readOnlyHint: true},
  }, ({cwd: c}) => answer(async () => (await svc()).listServices(at(c))));

  server.registerTool('logs', {
    description: 'The logs of the services, processes and tasks: `devenv logs --json [-n lines] [name]`.',
    inputSchema: {name: z.string().optional().describe('one service, process or task (default: all)'), lines: z.number().int().min(0).optional().describe('only the last N lines of each'), cwd},
    annotations: {readOnlyHint: true},
  }, ({name, lines, cwd: c}) => answer(async () => (await svc()).readLogsAt(at(c), name, lines)));

  server.registerTool('run', {
    description: "Run a task ([tasks.<name>]) after what it needs: `devenv run --json <task> -- args`. The task's output comes as a second text. Refused unless the project is allowed.",
    inputSchema: {task: z.string().min(1), args: z.array(z.string()).optional().describe("passed to the task's command"), force: z.boolean().optional().describe('run even when its sources are unchanged'), cwd},
  }, ({task, args, force, cwd: c}) => {
    const out = collector();
    return answer(async () => {
      const {openProject} = await import('../project/project.js');
      await requireTrusted(openProject(at(c)).root);
      return (await svc()).runTaskAt(at(c), task, args ?? [], out.io, force);
    }, out.text);
  });

  server.registerTool('search', {
    description: "Search the project's pinned nixpkgs for packages: `devenv search --json <terms>`.",
    inputSchema: {terms: z.array(z.string().min(1)).min(1).describe('words (regular expressions) that must all match'), cwd},
    annotations: {readOnlyHint: true},
  }, ({terms, cwd: c}) => answer(async () => (await import('../usecases/search.js')).searchProject(at(c), terms)));

  server.registerTool('add', {
    description: 'Add nixpkgs packages to devenv.toml and flake.nix (each is checked to exist first): `devenv add --json <packages>`.',
    inputSchema: {packages: z.array(z.string().min(1)).min(1).describe('nixpkgs attribute names, e.g. jq or python311Packages.numpy'), cwd},
  }, ({packages, cwd: c}) => answer(async () => (await import('../usecases/packages.js')).editProjectPackages(at(c), 'add', packages)));

  server.registerResource('devenv.toml', 'devenv://devenv.toml', {
    title: 'devenv.toml',
    description: "The project's devenv.toml as devenv reads it: parsed and validated, as JSON (a flake-only project has none: manifest is null).",
    mimeType: 'application/json',
  }, async (uri) => ({contents: [{uri: uri.href, mimeType: 'application/json', text: json(await (await import('../usecases/status.js')).projectManifest(o.cwd))}]}));

  server.registerResource('environment', 'devenv://environment', {
    title: "The environment's variable names",
    description: 'Names of the variables the environment sets (packages, [env], services, dotenv files): names only, never values. Refused unless the project is allowed.',
    mimeType: 'application/json',
  }, async (uri) => {
    const {openProject} = await import('../project/project.js');
    const {root} = openProject(o.cwd);
    await requireTrusted(root);
    const {projectVariables} = await import('../usecases/export.js');
    const names = Object.keys(await projectVariables(o.cwd, {requireTrust: true})).sort();
    return {contents: [{uri: uri.href, mimeType: 'application/json', text: json({root, names})}]};
  });
  return server;
}

/**
 * Serve on stdin/stdout until stdin closes. Only the protocol may reach stdout: whatever else
 * writes there (a use case's progress, a task's output) goes to stderr instead.
 */
export async function serveMcp(o: McpOptions): Promise<void> {
  const write = process.stdout.write.bind(process.stdout);
  const protocolOut = {
    write: (chunk: string) => write(chunk),
    once: (ev: string, f: () => void) => process.stdout.once(ev, f),
  } as unknown as NodeJS.WritableStream;
  process.stdout.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => (process.stderr.write as (...a: unknown[]) => boolean)(chunk, ...rest)) as typeof process.stdout.write;
  const server = buildServer(o);
  const transport = new StdioServerTransport(process.stdin, protocolOut as never);
  const closed = new Promise<void>((res) => {
    transport.onclose = () => res();
    process.stdin.once('end', () => res());
  });
  await server.connect(transport);
  await closed;
  await server.close().catch(() => {});
}
