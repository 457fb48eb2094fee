import { ESLint } from 'eslint';
import { expect, test } from 'vitest';
import { PROJECT_ROOT } from '../../src/paths.js';

test('the lint rule keeps Node built-ins and non-workflow Temporal packages out of src/workflows', async () => {
  const eslint = new ESLint({ cwd: PROJECT_ROOT });
  const code = [
    "import fs from 'node:fs';",
    "import { randomUUID } from 'crypto';",
    "import { Client } from '@temporalio/client';",
    "import { execa } from 'execa';",
    "import type { SearchAttributeType } from '@temporalio/common';",
    'export const probe = [fs, randomUUID, Client, execa] as unknown as SearchAttributeType;',
    '',
  ].join('\n');
  const [inWorkflows] = await eslint.lintText(code, { filePath: `${PROJECT_ROOT}/src/workflows/probe.ts` });
  const banned = inWorkflows!.messages.filter((m) => m.ruleId === 'no-restricted-imports').map((m) => m.line);
  expect(banned).toEqual([1, 2, 3, 4]);

  const [elsewhere] = await eslint.lintText(code, { filePath: `${PROJECT_ROOT}/src/activities/probe.ts` });
  expect(elsewhere!.messages.filter((m) => m.ruleId === 'no-restricted-imports')).toEqual([]);
});
