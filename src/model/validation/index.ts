export * from './fields.js';
export * from './store-inputs.js';
export * from './run-request.js';
export * from './pipeline.js';
export * from './user-input.js';
export * from './cron.js';
