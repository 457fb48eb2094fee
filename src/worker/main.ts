#!/usr/bin/env node
/**
 * The worker process: reads its configuration from the environment, builds
 * its clients once, and runs until SIGTERM or SIGINT (running steps get
 * SHUTDOWN_GRACE_MS to finish, then are cancelled and their processes killed).
 */
import { DefaultLogger, Runtime, type LogLevel } from '@temporalio/worker';
import { workerConfigFromEnv } from './config.js';
import { createClaudeTemporalWorker } from './worker.js';

const LOG_LEVELS: LogLevel[] = ['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR'];
const level = (process.env.LOG_LEVEL ?? 'INFO').toUpperCase() as LogLevel;
if (!LOG_LEVELS.includes(level)) {
  console.error(`error: Invalid LOG_LEVEL: must be one of ${LOG_LEVELS.join(', ')}`);
  process.exit(2);
}
Runtime.install({ logger: new DefaultLogger(level) });

const config = workerConfigFromEnv();
const worker = await createClaudeTemporalWorker(config);
console.log(`worker ready: task queue ${config.taskQueue} on ${config.temporalAddress}, ${config.maxConcurrentSteps} concurrent steps`);
await worker.run();
