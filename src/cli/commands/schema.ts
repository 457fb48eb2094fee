/** `schema`: the JSON Schema of pipeline files. */
import { type Command } from 'commander';
import { type Action } from '../context.js';
import { EXIT } from '../exit-codes.js';
import { printJson } from '../output.js';

export const registerSchemaCommand = (program: Command, action: Action): void => {
  program
    .command('schema')
    .description('print the JSON Schema of pipeline files')
    .action(
      action(async (c) => {
        const { pipelineJsonSchema } = await import('../../model/validation/pipeline.js');
        printJson(c.io, pipelineJsonSchema());
        return EXIT.ok;
      }),
    );
};
