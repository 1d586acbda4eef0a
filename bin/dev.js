#!/usr/bin/env node
// Run from source during development: builds first (tsc is incremental enough for this size).
'use strict';
const {execFileSync} = require('node:child_process');
const {join} = require('node:path');
const root = join(__dirname, '..');
execFileSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', join(root, 'tsconfig.json')], {stdio: 'inherit'});
require('./run.js');
