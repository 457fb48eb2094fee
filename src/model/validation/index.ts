export * from './fields.js';
export * from './store-inputs.js';
export * from './run-request.js';
export * from './pipeline.js';
