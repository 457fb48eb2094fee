/** `run <pipeline-file>`: a pipeline file in YAML or JSON, validated, then watched live. */
import { readFile } from 'node:fs/promises';
import { randomUUID } from 'node:crypto';
import { type Command } from 'commander';
import { parse as parseYaml } from 'yaml';
import { type PipelineInput, type PipelineProgress } from '../../model/workflow.js';
import { type Action } from '../context.js';
import { CliError, EXIT, usageError } from '../exit-codes.js';
import { truncate, usd } from '../format.js';
import { colorEnabled, palette, printJson } from '../output.js';
import { watchPipeline } from '../progress.js';

export const registerRunCommand = (program: Command, action: Action): void => {
  program
    .command('run')
    .argument('<pipeline-file>', 'pipeline in YAML or JSON (schema: `claude-temporal schema`)')
    .description('run a pipeline file with live progress')
    .option('--workflow-id <id>', 'workflow id (default pipeline-<uuid>)')
    .action(
      action(async (c, file: string, flags: { workflowId?: string }) => {
        const input = await readPipelineFile(file);
        const client = await c.temporal();
        const run = await client.startPipeline(input, { workflowId: flags.workflowId ?? `pipeline-${randomUUID()}` });
        const out = await watchPipeline(run, c.io, c.config.stack?.temporalUiUrl);
        const result = pipelineCommandResult(input, out);
        if (c.io.json) printJson(c.io, result);
        else c.io.stdout.write(pipelineSummary(result, palette(colorEnabled(c.io.stdout, c.io.env))));
        const failed = result.status !== 'completed';
        if (failed) c.io.stderr.write(`error: ${result.error ?? `pipeline ${result.status}`}\n`);
        return failed ? EXIT.failedRun : EXIT.ok;
      }),
    );
};

/** Read a pipeline file (YAML or JSON) and validate it; errors name the file, the step and the field. */
async function readPipelineFile(file: string): Promise<PipelineInput> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw usageError('pipeline-file', `cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  let data: unknown;
  try {
    data = /\.json$/i.test(file) ? JSON.parse(text) : parseYaml(text, { prettyErrors: true });
  } catch (err) {
    throw usageError('pipeline-file', `${file} is not valid ${/\.json$/i.test(file) ? 'JSON' : 'YAML'}: ${(err as Error).message.split('\n')[0]}`);
  }
  try {
    const { validatePipelineInput } = await import('../../model/validation/pipeline.js');
    return validatePipelineInput(data);
  } catch (err) {
    const e = err as { type?: string; message: string; evidence?: { field?: string } };
    if (e.type === 'InvalidInput') throw new CliError(`${e.message} (in ${file})`, EXIT.usage, { field: e.evidence?.field });
    throw err;
  }
}

/** The `--json` result of `run`: the pipeline's final progress with its workflow id. */
export type PipelineCommandResult = PipelineProgress & { workflowId: string; error: string | null; failureType: string | null };

function pipelineCommandResult(input: PipelineInput, out: Awaited<ReturnType<typeof watchPipeline>>): PipelineCommandResult {
  const progress: PipelineProgress = out.progress ?? {
    name: input.name ?? 'pipeline',
    status: 'failed',
    stepsDone: 0,
    stepsTotal: input.steps.length,
    currentStep: null,
    totalCostUsd: 0,
    budgetUsd: input.budgetUsd ?? null,
    steps: [],
    stoppedReason: null,
  };
  return {
    workflowId: out.workflowId,
    ...progress,
    status: out.failure ? 'failed' : progress.status,
    error: out.failure?.message ?? progress.stoppedReason,
    failureType: out.failure?.type ?? null,
  };
}

function pipelineSummary(r: PipelineCommandResult, p = palette(false)): string {
  const lines = [
    `${p.bold('pipeline')} ${r.name}  ${r.status === 'completed' ? p.green(r.status) : p.red(r.status)}  ${r.stepsDone}/${r.stepsTotal} steps  ${usd(r.totalCostUsd)}`,
    `${p.bold('workflow')} ${r.workflowId}`,
  ];
  for (const s of r.steps) {
    lines.push(`  ${String(s.index + 1).padStart(2)}. ${s.name.padEnd(16)} ${s.state.padEnd(8)} ${(s.status ?? '').padEnd(15)} ${s.sessionId ?? ''}  ${usd(s.costUsd)}`);
    if (s.summary) lines.push(p.dim(`      ${truncate(s.summary, 100)}`));
  }
  if (r.error) lines.push(`${p.yellow('note')} ${r.error}`);
  return lines.join('\n') + '\n';
}
