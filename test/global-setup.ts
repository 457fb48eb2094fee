import { type TestProject } from 'vitest/node';
import { execFileSync } from 'node:child_process';
import { chmodSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { PROJECT_ROOT } from '../src/paths.js';
import { startStack, type Stack } from '../src/stack/stack.js';

declare module 'vitest' {
  export interface ProvidedContext {
    temporalAddress: string;
    mongoUri: string;
    stubUrl: string;
  }
}

let stack: Stack | undefined;

/** Starts the real local stack once per run (Temporal dev server, Mongo wire server or MONGODB_URI, the stub). */
export async function setup(project: TestProject): Promise<void> {
  await ensureBuilt();
  stack = await startStack({ stub: true });
  project.provide('temporalAddress', stack.temporalAddress);
  project.provide('mongoUri', stack.mongoUri);
  project.provide('stubUrl', stack.stubUrl!);
}

export async function teardown(): Promise<void> {
  await stack?.stop();
}

/** The CLI tests run the built binary: rebuild dist/ when a source file is newer (npm test's setup already built it). */
async function ensureBuilt(): Promise<void> {
  const built = (() => {
    try {
      return statSync(path.join(PROJECT_ROOT, 'dist', 'cli', 'main.js')).mtimeMs;
    } catch {
      return 0;
    }
  })();
  const newest = readdirSync(path.join(PROJECT_ROOT, 'src'), { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .reduce((max, e) => Math.max(max, statSync(path.join(e.parentPath, e.name)).mtimeMs), 0);
  if (newest > built) {
    execFileSync(process.execPath, [path.join(PROJECT_ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.build.json'], { cwd: PROJECT_ROOT, stdio: 'inherit' });
    chmodSync(path.join(PROJECT_ROOT, 'dist', 'cli', 'main.js'), 0o755);
  }
}
