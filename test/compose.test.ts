import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { parse } from 'yaml';
import { expect, test } from 'vitest';
import { PROJECT_ROOT } from '../src/paths.js';
import { SEARCH_ATTRIBUTES } from '../src/stack/stack.js';

interface Service {
  image?: string;
  build?: string;
  command?: string[];
  ports?: string[];
  environment?: Record<string, string>;
  volumes?: string[];
  healthcheck?: { test: string[] };
  depends_on?: Record<string, { condition: string }>;
}

// No Docker engine here: check the structure users rely on.
test('docker-compose.yml describes Temporal, its UI, MongoDB 8 and the worker, with health checks and volumes', async () => {
  const compose = parse(await readFile(path.join(PROJECT_ROOT, 'docker-compose.yml'), 'utf8')) as {
    services: Record<string, Service>;
    volumes: Record<string, unknown>;
  };
  const { temporal, 'temporal-ui': ui, mongo, worker } = compose.services;
  expect(Object.keys(compose.services).sort()).toEqual(['mongo', 'temporal', 'temporal-ui', 'worker']);

  expect(temporal!.image).toMatch(/^temporalio\/temporal:1\.9\.1$/);
  expect(temporal!.ports).toContain('7233:7233');
  for (const [name, type] of Object.entries(SEARCH_ATTRIBUTES)) expect(temporal!.command).toContain(`--search-attribute=${name}=${type}`);
  expect(ui!.image).toMatch(/^temporalio\/ui:/);
  expect(ui!.environment?.TEMPORAL_ADDRESS).toBe('temporal:7233');
  expect(mongo!.image).toMatch(/^mongo:8/);
  expect(worker!.build).toBe('.');
  expect(worker!.environment).toMatchObject({ TEMPORAL_ADDRESS: 'temporal:7233', MONGODB_URI: 'mongodb://mongo:27017' });

  for (const s of [temporal, ui, mongo, worker]) expect(s!.healthcheck?.test.length).toBeGreaterThan(0);
  expect(worker!.depends_on).toEqual({ temporal: { condition: 'service_healthy' }, mongo: { condition: 'service_healthy' } });
  expect(ui!.depends_on).toEqual({ temporal: { condition: 'service_healthy' } });

  const named = (s: Service) => (s.volumes ?? []).map((v) => v.split(':')[0]);
  for (const v of [...named(temporal!), ...named(mongo!), ...named(worker!)]) expect(compose.volumes).toHaveProperty(v!);
  expect(named(mongo!)).toEqual(['mongo-data']);
});

test('the Dockerfile builds the worker entry the compose file runs', async () => {
  const dockerfile = await readFile(path.join(PROJECT_ROOT, 'Dockerfile'), 'utf8');
  expect(dockerfile).toMatch(/CMD \["node", "dist\/worker\/main\.js"\]/);
  expect(dockerfile).toMatch(/^USER node$/m);
});
