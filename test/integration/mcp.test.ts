// `devenv mcp` through a real MCP client of the same SDK over stdio: it lists the tools, runs
// exec in an allowed project's environment, is refused in one that is not allowed (nothing
// runs there), reads ps after up, and reads the resources (names, never dotenv values).
import {afterAll, beforeAll, describe, expect, test} from '@jest/globals';
import {existsSync, mkdirSync, writeFileSync} from 'node:fs';
import {join} from 'node:path';
import {Client} from '@modelcontextprotocol/sdk/client/index.js';
import {StdioClientTransport} from '@modelcontextprotocol/sdk/client/stdio.js';
import {DEVENV, makeSandbox, type Sandbox} from '../helpers/env.js';

const EVAL_TIMEOUT = 240_000;
const SECRET = 'dotenv-secret-7f3a';

let sb: Sandbox;
let allowed: string;
let stranger: string;
const clients: Client[] = [];

type Text = {type: string; text: string};
const first = (r: unknown): unknown => JSON.parse(((r as {content: Text[]}).content[0]).text);

async function connect(cwd: string): Promise<Client> {
  const transport = new StdioClientTransport({command: process.execPath, args: [DEVENV, 'mcp'], cwd, env: {...sb.env, PWD: cwd} as Record<string, string>, stderr: 'pipe'});
  const client = new Client({name: 'devenv-test', version: '0'});
  await client.connect(transport);
  clients.push(client);
  return client;
}

beforeAll(() => {
  sb = makeSandbox('devenv-mcp-');
  allowed = join(sb.dir, 'allowed');
  stranger = join(sb.dir, 'stranger');
  for (const p of [allowed, stranger]) {
    mkdirSync(p);
    writeFileSync(
      join(p, 'devenv.toml'),
      ['name = "p"', 'packages = []', '', '[env]', 'GREETING = "from the project"', '', '[dotenv]', 'files = [".env"]', '', '[processes.sleeper]', 'exec = "sleep 600"', ''].join('\n'),
    );
    writeFileSync(join(p, '.env'), `API_TOKEN=${SECRET}\n`);
  }
  const r = sb.devenv(['allow'], {cwd: allowed, timeout: EVAL_TIMEOUT});
  if (r.status !== 0) throw new Error(r.stderr);
}, EVAL_TIMEOUT);

afterAll(async () => {
  for (const c of clients) await c.close().catch(() => {});
  sb?.devenv(['down'], {cwd: allowed});
  sb?.cleanup();
});

describe('devenv mcp', () => {
  test('lists the tools and the resources', async () => {
    const c = await connect(allowed);
    const tools = (await c.listTools()).tools.map((t) => t.name).sort();
    expect(tools).toEqual(['add', 'down', 'exec', 'logs', 'ps', 'run', 'search', 'status', 'up']);
    const resources = (await c.listResources()).resources.map((r) => r.uri).sort();
    expect(resources).toEqual(['devenv://devenv.toml', 'devenv://environment']);
  });

  test("exec runs in an allowed project's environment and returns exit code and output", async () => {
    const c = await connect(allowed);
    const r = await c.callTool({name: 'exec', arguments: {argv: ['sh', '-c', 'printf "%s|%s" "$GREETING" "$API_TOKEN"; echo oops >&2; exit 3']}}, undefined, {timeout: EVAL_TIMEOUT});
    expect(r.isError).toBeFalsy();
    expect(first(r)).toMatchObject({root: allowed, exitCode: 3, stdout: `from the project|${SECRET}`, stderr: 'oops\n', timedOut: false});
  }, EVAL_TIMEOUT);

  test('exec, up and the environment are refused in a project that is not allowed; nothing runs', async () => {
    const c = await connect(stranger);
    const marker = join(stranger, 'ran');
    const r = await c.callTool({name: 'exec', arguments: {argv: ['touch', marker]}});
    expect(r.isError).toBe(true);
    expect(first(r)).toMatchObject({ok: false, error: 'not_allowed', message: `${stranger} is not allowed`});
    expect(existsSync(marker)).toBe(false);
    const up = await c.callTool({name: 'up', arguments: {}});
    expect(first(up)).toMatchObject({error: 'not_allowed'});
    await expect(c.readResource({uri: 'devenv://environment'})).rejects.toThrow(/not allowed/);
    // Reading is fine: status says why.
    expect(first(await c.callTool({name: 'status', arguments: {}}))).toMatchObject({root: stranger, trusted: false});
    const ps = first(await c.callTool({name: 'ps', arguments: {}})) as {services: {name: string; state: string}[]};
    expect(ps.services).toEqual([expect.objectContaining({name: 'sleeper', state: 'stopped'})]);
  });

  test('up, then ps shows the process running, as `devenv ps --json` does; down stops it', async () => {
    const c = await connect(allowed);
    const up = await c.callTool({name: 'up', arguments: {}}, undefined, {timeout: EVAL_TIMEOUT});
    expect(up.isError).toBeFalsy();
    expect(first(up)).toMatchObject({root: allowed, services: [expect.objectContaining({name: 'sleeper'})]});
    const ps = first(await c.callTool({name: 'ps', arguments: {}})) as {services: {name: string; state: string; pid?: number}[]};
    expect(ps.services).toEqual([expect.objectContaining({name: 'sleeper', state: 'running'})]);
    const cli = JSON.parse(sb.devenv(['ps', '--json'], {cwd: allowed}).stdout);
    expect(cli).toEqual(ps);
    const down = first(await c.callTool({name: 'down', arguments: {}})) as {services: {name: string; stopped: boolean}[]};
    expect(down.services).toEqual([expect.objectContaining({name: 'sleeper', stopped: true})]);
    expect(first(await c.callTool({name: 'ps', arguments: {}}))).toMatchObject({services: [expect.objectContaining({state: 'stopped'})]});
  }, EVAL_TIMEOUT);

  test("resources: the parsed devenv.toml, and the environment's names without any value", async () => {
    const c = await connect(allowed);
    const toml = JSON.parse(((await c.readResource({uri: 'devenv://devenv.toml'})).contents[0] as {text: string}).text);
    expect(toml).toMatchObject({root: allowed, manifest: {name: 'p', env: {GREETING: 'from the project'}, processes: {sleeper: {exec: 'sleep 600'}}}});
    const text = ((await c.readResource({uri: 'devenv://environment'}, {timeout: EVAL_TIMEOUT})).contents[0] as {text: string}).text;
    expect(JSON.parse(text).names).toEqual(expect.arrayContaining(['API_TOKEN', 'GREETING', 'DEVENV_ROOT']));
    expect(text).not.toContain(SECRET);
    expect(text).not.toContain('from the project');
  }, EVAL_TIMEOUT);

  test('a bad call is an error result with what to do, and the server keeps serving', async () => {
    const c = await connect(allowed);
    const r = await c.callTool({name: 'run', arguments: {task: 'nope'}});
    expect(r.isError).toBe(true);
    expect(first(r)).toMatchObject({error: 'usage', message: 'unknown task: nope'});
    expect(first(await c.callTool({name: 'status', arguments: {}}))).toMatchObject({root: allowed, trusted: true});
  });
});
