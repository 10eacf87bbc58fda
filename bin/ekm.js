#!/usr/bin/env node
// `ekm` CLI launcher: runs the compiled CLI from dist/ (built by `npm run build`).
'use strict';
const { existsSync } = require('node:fs');
const { join } = require('node:path');

const main = join(__dirname, '..', 'dist', 'apps', 'cli', 'src', 'main.js');
if (!existsSync(main)) {
  process.stderr.write(`ekm: ${main} is missing; build the CLI first with \`npm run build\` (in ${join(__dirname, '..')})\n`);
  process.exit(2);
}
require(main);
