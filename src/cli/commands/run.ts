/** `run <pipeline-file>`: a pipeline file in YAML or JSON, validated, then watched live. */
import { randomUUID } from 'node:crypto';
import { type Command } from 'commander';
import { parse as parseYaml, type CollectionTag, type ScalarTag } from 'yaml';
import { type PipelineInput } from '../../model/workflow.js';
import { MAX_PIPELINE_BYTES } from '../../model/defaults.js';
import { idText } from '../../model/validation/user-input.js';
import { type Action } from '../context.js';
import { CliError, EXIT, usageError } from '../exit-codes.js';
import { followOptions } from '../follow.js';
import { printOutcome } from '../outcome.js';
import { checkStoreReachable, startPipelineOnce, watchPipeline } from '../progress.js';
import { readBounded } from '../read-input.js';

/** YAML's core schema reads `0x10` and `0o17` as numbers; here they stay text, as in JSON (`budgetUsd: 0x10` is refused, not 16). */
const decimalNumbersOnly = <T extends ScalarTag | CollectionTag | string>(tags: T[]): T[] =>
  tags.filter((tag) => (typeof tag === 'string' ? tag !== 'intHex' && tag !== 'intOct' : tag.format !== 'HEX' && tag.format !== 'OCT'));

export const registerRunCommand = (program: Command, action: Action): void => {
  program
    .command('run')
    .argument('<pipeline-file>', 'pipeline in YAML or JSON (schema: `claude-temporal schema`)')
    .description('run a pipeline file with live progress')
    .option('--workflow-id <id>', 'workflow id (default pipeline-<uuid>)')
    .option('--cancel-on-interrupt', 'Ctrl-C cancels the run and waits for it to stop (default: the first Ctrl-C detaches)')
    .action(
      action(async (c, file: string, flags: { workflowId?: string; cancelOnInterrupt?: boolean }) => {
        if (flags.workflowId !== undefined) idText(flags.workflowId, '--workflow-id');
        const input = await readPipelineFile(file);
        const client = await c.temporal();
        await checkStoreReachable(c);
        const run = await startPipelineOnce(client, c.io, input, flags.workflowId, `pipeline-${randomUUID()}`);
        return printOutcome(c.io, await watchPipeline(run, c.io, await followOptions(c, flags)), undefined, input);
      }),
    );
};

/** Read a pipeline file (YAML or JSON) and validate it; errors name the file, the step and the field. */
async function readPipelineFile(file: string): Promise<PipelineInput> {
  const text = await readBounded(file, MAX_PIPELINE_BYTES, 'pipeline-file');
  let data: unknown;
  try {
    data = /\.json$/i.test(file) ? JSON.parse(text) : parseYaml(text, { prettyErrors: true, customTags: decimalNumbersOnly });
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
