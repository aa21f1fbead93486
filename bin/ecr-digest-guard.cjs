#!/usr/bin/env node
// The package's `bin`. A checkout of the repository runs the TypeScript source through tsx (a devDependency),
// so `npx ecr-digest-guard` works right after `npm ci` and never runs a stale build left in dist/; the packed
// package ships no source (package.json `files`) and runs its built JavaScript.
const { existsSync } = require('node:fs');
const path = require('node:path');

const source = path.join(__dirname, 'cli.ts');
if (existsSync(source)) {
  require('tsx/cjs/api').register();
  require(source);
} else {
  require(path.join(__dirname, '..', 'dist', 'bin', 'cli.js'));
}
