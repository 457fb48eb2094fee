export { sessionPipeline } from './session-pipeline.js';
export { exploreAlternatives } from './explore-alternatives.js';
export { conversation } from './conversation.js';
export { cleanupSessions } from './cleanup-sessions.js';
