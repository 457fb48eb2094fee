import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseText, type ParsedLine } from '../../src/runner/index.js';

export const SAMPLES_DIR = fileURLToPath(new URL('../fixtures/claude-cli-samples/', import.meta.url));
export const FAKE_CLAUDE = fileURLToPath(new URL('../fixtures/fake-claude.mjs', import.meta.url));

export function sampleText(name: string): string {
  return readFileSync(`${SAMPLES_DIR}${name}`, 'utf8');
}

export function sample(name: string): ParsedLine[] {
  return parseText(sampleText(name));
}
