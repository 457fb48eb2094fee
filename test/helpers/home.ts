import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/**
 * A HOME for the `claude` children of tests. The CLI's Bash tool sources `~/.bashrc`; the
 * machine's runs `pyenv rehash`, which waits up to 60 s on a lock that a killed tool (the
 * cancellation tests kill whole process trees) can leave behind. Tests stay hermetic instead.
 */
export const TEST_HOME = mkdtempSync(path.join(os.tmpdir(), 'ct-test-home-'));
writeFileSync(path.join(TEST_HOME, '.bashrc'), '');
