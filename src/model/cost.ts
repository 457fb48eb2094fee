/**
 * What a run spent, from the CLI's result messages. 2.1.330 reports `total_cost_usd` and `modelUsage`
 * for the whole lineage (a resume or fork includes the cost restored from the transcript) and
 * `model_usage_since_last_result` for what this process spent; older CLIs report only the process's
 * own spend in `total_cost_usd` and `modelUsage`. Pure: the runner and the store both price runs here.
 */
import { roundUsd } from './formats.js';
import { type ModelUsage } from './run.js';

export { roundUsd };

/** Usage of one model as the CLI reports it in `modelUsage` / `model_usage_since_last_result`. */
export interface RawModelUsage {
  inputTokens?: number;
  outputTokens?: number;
  cacheReadInputTokens?: number;
  cacheCreationInputTokens?: number;
  costUSD?: number;
  [key: string]: unknown;
}

/** The cost fields of a `result` message. */
export interface ResultCostFields {
  total_cost_usd?: unknown;
  modelUsage?: unknown;
  /** 2.1.330+: what this process spent since its previous result. */
  model_usage_since_last_result?: unknown;
}

export interface RunCost {
  /** What this run spent, USD. */
  runCostUsd: number;
  /** `total_cost_usd` of the last result (the lineage's total on 2.1.330). */
  cumulativeCostUsd: number;
  /** This run's tokens and cost per model. */
  usageByModel: Record<string, ModelUsage>;
}

function num(value: unknown): number {
  return typeof value === 'number' && Number.isFinite(value) ? value : 0;
}

function toModelUsage(raw: RawModelUsage): ModelUsage {
  return {
    inputTokens: num(raw.inputTokens),
    outputTokens: num(raw.outputTokens),
    cacheReadInputTokens: num(raw.cacheReadInputTokens),
    cacheCreationInputTokens: num(raw.cacheCreationInputTokens),
    costUSD: num(raw.costUSD),
  };
}

function isUsageMap(value: unknown): value is Record<string, RawModelUsage> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** This result's own spend: the since-last-result figures when present, else the process total (older CLIs). */
export function resultSpend(result: ResultCostFields): { costUsd: number; usageByModel: Record<string, ModelUsage> } {
  const since = result.model_usage_since_last_result;
  const source = isUsageMap(since) ? since : isUsageMap(result.modelUsage) ? result.modelUsage : {};
  const usageByModel: Record<string, ModelUsage> = {};
  for (const [model, raw] of Object.entries(source)) usageByModel[model] = toModelUsage(isUsageMap(raw) ? raw : {});
  const costUsd = isUsageMap(since) ? Object.values(usageByModel).reduce((sum, u) => sum + u.costUSD, 0) : num(result.total_cost_usd);
  return { costUsd, usageByModel };
}

function addUsage(into: Record<string, ModelUsage>, from: Record<string, ModelUsage>): void {
  for (const [model, u] of Object.entries(from)) {
    const prev = into[model];
    into[model] = prev
      ? {
          inputTokens: prev.inputTokens + u.inputTokens,
          outputTokens: prev.outputTokens + u.outputTokens,
          cacheReadInputTokens: prev.cacheReadInputTokens + u.cacheReadInputTokens,
          cacheCreationInputTokens: prev.cacheCreationInputTokens + u.cacheCreationInputTokens,
          costUSD: prev.costUSD + u.costUSD,
        }
      : { ...u };
  }
}

/** The cost of one run from its result messages (one in `-p` mode; summed when a process printed several). */
export function runCost(results: readonly ResultCostFields[]): RunCost {
  const usageByModel: Record<string, ModelUsage> = {};
  let runCostUsd = 0;
  for (const result of results) {
    const spend = resultSpend(result);
    runCostUsd += spend.costUsd;
    addUsage(usageByModel, spend.usageByModel);
  }
  const last = results[results.length - 1];
  return { runCostUsd: roundUsd(runCostUsd), cumulativeCostUsd: last ? num(last.total_cost_usd) : 0, usageByModel };
}
