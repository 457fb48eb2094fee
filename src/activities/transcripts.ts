import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';

/**
 * Where the CLI keeps a session's transcript:
 * `$CLAUDE_CONFIG_DIR/projects/<cwd, every non-alphanumeric character as ->/<id>.jsonl`.
 */
export function transcriptPath(configDir: string, cwd: string, sessionId: string): string {
  return path.join(configDir, 'projects', cwd.replace(/[^a-zA-Z0-9]/g, '-'), `${sessionId}.jsonl`);
}

/** Put a stored transcript where `--resume` looks for it, replacing any local copy atomically. */
export async function restoreTranscript(configDir: string, cwd: string, sessionId: string, data: Uint8Array): Promise<void> {
  const file = transcriptPath(configDir, cwd, sessionId);
  await mkdir(path.dirname(file), { recursive: true });
  // Parallel forks restore the same parent: write aside, then rename, so none reads half a file.
  const tmp = `${file}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  await writeFile(tmp, data);
  await rename(tmp, file);
}

/** This machine's copy of a session's transcript where `--resume` looks for it, or null. */
export async function localTranscript(configDir: string, cwd: string, sessionId: string): Promise<Uint8Array | null> {
  return readFile(transcriptPath(configDir, cwd, sessionId)).catch(() => null);
}

/** Read a session's transcript after a run; looks in every project dir if the cwd's is not it. */
export async function readTranscript(configDir: string, cwd: string, sessionId: string): Promise<Uint8Array | null> {
  const expected = transcriptPath(configDir, cwd, sessionId);
  const found = await readFile(expected).catch(() => null);
  if (found) return found;
  const projects = path.join(configDir, 'projects');
  for (const dir of await readdir(projects).catch(() => [] as string[])) {
    const data = await readFile(path.join(projects, dir, `${sessionId}.jsonl`)).catch(() => null);
    if (data) return data;
  }
  return null;
}

/** Remove a local transcript, e.g. the leftovers of a failed attempt that fixed the same `--session-id`. */
export async function removeTranscript(configDir: string, cwd: string, sessionId: string): Promise<void> {
  await rm(transcriptPath(configDir, cwd, sessionId), { force: true });
}
