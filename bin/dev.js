#!/usr/bin/env node
// Run from source during development: builds first (tsc is incremental enough for this size).
import {execFileSync} from 'node:child_process';
import {fileURLToPath} from 'node:url';
const root = fileURLToPath(new URL('..', import.meta.url));
execFileSync(process.execPath, [root + 'node_modules/typescript/bin/tsc', '-p', root + 'tsconfig.json'], {stdio: 'inherit'});
await import('./run.js');
