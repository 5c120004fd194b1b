#!/usr/bin/env node
// Runs every test file of the workspace with Node's test runner, loading TypeScript through tsx.
// Arguments narrow the run: `npm test -- presence` runs the files whose path contains "presence".
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const searchRoots = ['packages', 'apps'];
const filters = process.argv.slice(2);

function collect(directory, found) {
  for (const entry of readdirSync(directory)) {
    if (entry === 'node_modules' || entry === 'dist') {
      continue;
    }
    const path = join(directory, entry);
    if (statSync(path).isDirectory()) {
      collect(path, found);
    } else if (entry.endsWith('.test.ts') || entry.endsWith('.test.tsx')) {
      found.push(path);
    }
  }
}

const files = [];
for (const name of searchRoots) {
  try {
    collect(join(root, name), files);
  } catch (error) {
    if (error.code !== 'ENOENT') {
      throw error;
    }
  }
}

const selected = files
  .map((file) => relative(root, file))
  .filter((file) => file.includes('/test/'))
  .filter((file) => filters.length === 0 || filters.some((filter) => file.includes(filter)))
  .sort();

if (selected.length === 0) {
  console.error(`no test files match ${filters.join(' ') || '(all)'}`);
  process.exit(1);
}

const result = spawnSync(
  process.execPath,
  ['--import', 'tsx', '--test', '--test-concurrency=2', '--test-timeout=180000', ...selected],
  { cwd: root, stdio: 'inherit' },
);
process.exit(result.status ?? 1);
