#!/usr/bin/env node
// The package's `bin`. A packed package runs its built JavaScript; a checkout of the repository runs the
// TypeScript source through tsx (a devDependency), so `npx ecr-digest-guard` works right after `npm ci`.
const { existsSync } = require('node:fs');
const path = require('node:path');

const built = path.join(__dirname, '..', 'dist', 'bin', 'cli.js');
if (existsSync(built)) {
  require(built);
} else {
  require('tsx/cjs/api').register();
  require('./cli.ts');
}
