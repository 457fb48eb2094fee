/**
 * The shared vocabulary of every layer: failure types, run, session and
 * workflow types, defaults, formats and the field validators. Pure: it
 * imports nothing from the rest of the project.
 */
export * from './failures.js';
export * from './formats.js';
export * from './defaults.js';
export * from './run.js';
export { resultSpend, runCost, type RawModelUsage, type ResultCostFields, type RunCost } from './cost.js';
export type * from './session.js';
export { COST_DIMENSIONS, SESSION_STATUSES } from './session.js';
export type * from './workflow.js';
export * from './retention.js';
export * from './validation/index.js';
