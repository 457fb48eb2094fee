export * from '../model/run.js';
export { buildArgs, effectivePrompt } from './argv.js';
export { validateRunRequest, runRequestSchema, RESERVED_ENV_KEYS, type ValidateOptions } from '../model/validation/run-request.js';
export {
  DEFAULT_MAX_LINE_BYTES,
  NdjsonParser,
  parseLine,
  parseStream,
  parseText,
  type AssistantData,
  type AssistantMessage,
  type ClaudeMessage,
  type ContentBlock,
  type MalformedLine,
  type MalformedReason,
  type ParsedLine,
  type ParserOptions,
  type RawModelUsage,
  type ResultData,
  type ResultMessage,
  type StreamEventData,
  type StreamEventMessage,
  type SystemData,
  type SystemMessage,
  type UnknownData,
  type UnknownMessage,
  type UserData,
  type UserMessage,
} from './parser.js';
export { BUDGET_SUBTYPE, MAX_TURNS_SUBTYPE, classifyRun, failureTypeForStatus, type Classification, type RunFacts } from './classify.js';
export { resultSpend, roundUsd, runCost, type RunCost } from '../model/cost.js';
export { calculateCost, countTurns, extractModel, extractSessionId, getSummary, resultsOf, type SessionMessage } from './session.js';
export { childEnv, defaultClaudePath, resolveClaudeBinary } from './child.js';
export { runClaude, type RunOptions, type RunnerConfig } from './run.js';
