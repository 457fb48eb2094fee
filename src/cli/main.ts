#!/usr/bin/env node
/**
 * The `claude-temporal` command. Exit codes: 0 ok, 1 other error, 2 usage or
 * invalid input, 3 failed run, 4 server unavailable (docs/cli.md).
 */
import { runCli } from './program.js';

const code = await runCli(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr, env: process.env });
// Exit explicitly: gRPC and driver handles may linger after the command is done. Flush stdout first.
process.stdout.write('', () => process.exit(code));
