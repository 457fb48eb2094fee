import { type TestProject } from 'vitest/node';
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
  stack = await startStack({ stub: true });
  project.provide('temporalAddress', stack.temporalAddress);
  project.provide('mongoUri', stack.mongoUri);
  project.provide('stubUrl', stack.stubUrl!);
}

export async function teardown(): Promise<void> {
  await stack?.stop();
}
