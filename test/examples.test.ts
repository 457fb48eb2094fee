import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { parse } from 'yaml';
import { expect, test } from 'vitest';
import { validatePipelineInput } from '../src/model/validation/pipeline.js';
import { PROJECT_ROOT } from '../src/paths.js';

test('the example pipeline files validate against the pipeline schema', async () => {
  const dir = path.join(PROJECT_ROOT, 'examples');
  const files = (await readdir(dir)).filter((f) => /\.(ya?ml|json)$/.test(f));
  expect(files.length).toBeGreaterThan(0);
  for (const f of files) {
    const pipeline = validatePipelineInput(parse(await readFile(path.join(dir, f), 'utf8')));
    expect(pipeline.steps.length).toBeGreaterThan(0);
  }
});
