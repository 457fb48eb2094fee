/** What the child process is: the binary, its environment. */
import { constants as fsConstants } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { delimiter, dirname, isAbsolute, join, resolve } from 'node:path';
import { ClaudeTemporalError } from '../model/failures.js';
import { type RunRequest } from '../model/run.js';

const MINIMAL_ENV_KEYS = ['PATH', 'HOME', 'USER', 'LOGNAME', 'SHELL', 'LANG', 'LC_ALL', 'LC_CTYPE', 'TMPDIR', 'TZ', 'TERM'];

/** The binary of the installed `@anthropic-ai/claude-code` package. */
export function defaultClaudePath(): string {
  const require = createRequire(import.meta.url);
  const pkgPath = require.resolve('@anthropic-ai/claude-code/package.json');
  const pkg = require(pkgPath) as { bin?: string | Record<string, string> };
  const bin = typeof pkg.bin === 'string' ? pkg.bin : (pkg.bin?.claude ?? 'bin/claude.exe');
  return join(dirname(pkgPath), bin);
}

async function isExecutable(path: string): Promise<boolean> {
  try {
    await access(path, fsConstants.X_OK);
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}

export function binaryMissing(path: string): ClaudeTemporalError {
  return new ClaudeTemporalError('ClaudeBinaryMissing', `Claude binary is missing or not executable: ${path}`);
}

/** Resolves the binary or throws `ClaudeBinaryMissing` naming the path tried. */
export async function resolveClaudeBinary(path: string, envPath: string | undefined): Promise<string> {
  if (path.includes('/')) {
    const full = isAbsolute(path) ? path : resolve(path);
    if (await isExecutable(full)) return full;
    throw binaryMissing(full);
  }
  for (const dir of (envPath ?? '').split(delimiter).filter(Boolean)) {
    const candidate = join(dir, path);
    if (await isExecutable(candidate)) return candidate;
  }
  throw binaryMissing(`${path} (searched PATH)`);
}

/** The child's environment: a minimal base, the runner's, the request's, then what the runner enforces. */
export function childEnv(request: RunRequest, config: { configDir: string; baseEnv?: Record<string, string>; maxRetries?: number }): Record<string, string> {
  const env: Record<string, string> = {};
  for (const key of MINIMAL_ENV_KEYS) {
    const v = process.env[key];
    if (v !== undefined) env[key] = v;
  }
  Object.assign(env, config.baseEnv ?? {}, request.env ?? {});
  env.CLAUDE_CONFIG_DIR = config.configDir;
  env.CLAUDE_CODE_MAX_RETRIES = String(config.maxRetries ?? 2);
  env.CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC = '1';
  env.DISABLE_AUTOUPDATER = '1';
  return env;
}
