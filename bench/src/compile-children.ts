import { readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { build } from 'esbuild';

/** Folder of the suite's TypeScript sources. */
const SOURCE_DIRECTORY = fileURLToPath(new URL('.', import.meta.url));
/** Folder of the transpiled JavaScript that child processes run (git-ignored as dist/). */
export const COMPILED_DIRECTORY = fileURLToPath(new URL('../dist/', import.meta.url));

/**
 * Transpiles the suite to JavaScript, file by file, so that the server and load-worker children
 * start with plain `node`: loading tsx costs about a second of CPU per child, and a run starts
 * dozens of them. Types are not checked here; `npm run typecheck -w @confab/bench` does that.
 */
export async function compileChildren(): Promise<void> {
  rmSync(COMPILED_DIRECTORY, { recursive: true, force: true });
  await build({
    entryPoints: listSources(SOURCE_DIRECTORY),
    outdir: COMPILED_DIRECTORY,
    outbase: SOURCE_DIRECTORY,
    bundle: false,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    logLevel: 'warning',
  });
}

function listSources(directory: string): string[] {
  const found: string[] = [];
  for (const entry of readdirSync(directory, { withFileTypes: true })) {
    const path = join(directory, entry.name);
    if (entry.isDirectory()) {
      found.push(...listSources(path));
    } else if (entry.name.endsWith('.ts')) {
      found.push(path);
    }
  }
  return found;
}
