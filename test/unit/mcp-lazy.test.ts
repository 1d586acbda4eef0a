// The MCP SDK is for `devenv mcp` only: one module imports it, and the mcp command loads that
// module lazily, so no other command (and not the hot path) pays for it.
import {expect, test} from '@jest/globals';
import {readdirSync, readFileSync} from 'node:fs';
import {join} from 'node:path';
import {fileURLToPath} from 'node:url';

const SRC = fileURLToPath(new URL('../../src/', import.meta.url));

test('only src/cli/mcp.ts imports the SDK, and only the mcp command imports it, with await import', () => {
  const files = readdirSync(SRC, {recursive: true, encoding: 'utf8'}).filter((f) => f.endsWith('.ts'));
  const importers = files.filter((f) => /from '@modelcontextprotocol\/|import\('@modelcontextprotocol\//.test(readFileSync(join(SRC, f), 'utf8')));
  expect(importers).toEqual(['cli/mcp.ts']);
  const users = files.filter((f) => /cli\/mcp\.js'/.test(readFileSync(join(SRC, f), 'utf8')));
  expect(users).toEqual(['commands/mcp.ts']);
  const cmd = readFileSync(join(SRC, 'commands/mcp.ts'), 'utf8');
  expect(cmd).toMatch(/await import\('\.\.\/cli\/mcp\.js'\)/);
  expect(cmd).not.toMatch(/^import .*cli\/mcp/m);
});
