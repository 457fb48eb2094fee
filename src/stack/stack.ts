/**
 * The embedded local stack: the Temporal CLI dev server, our FerretDB wrapper
 * (MongoDB wire protocol) and the Messages API stub, each on a free loopback
 * port, each waited for with a real readiness probe. Tests (vitest
 * `globalSetup`), the demo and `claude-temporal stack up` all use this module.
 */
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Connection } from '@temporalio/client';
import { ferretdbServerPath, PROJECT_ROOT, RUNNING_FROM_DIST, temporalCliPath } from '../paths.js';
import { freePort, spawnService, type Service } from './service.js';

/** Custom search attributes registered on the dev server, so pipelines are filterable in the UI. */
export const SEARCH_ATTRIBUTES = {
  ClaudeTags: 'KeywordList',
  ClaudePipeline: 'Keyword',
  ClaudeCostUsd: 'Double',
} as const;

export interface StackOptions {
  /** Keep server state here (restarts keep it); default: a temp dir removed on stop. */
  dataDir?: string;
  /** Serve the Temporal Web UI; default false. */
  ui?: boolean;
  /** Use this MongoDB instead of starting the local wire server; default `process.env.MONGODB_URI`. */
  mongoUri?: string;
  /** Start the Messages API stub; default true. */
  stub?: boolean;
  /** Leave the servers running after this process exits (`stack up`); default false. */
  detached?: boolean;
  /** Server logs go here; default `<dataDir>/logs`. */
  logDir?: string;
}

export interface StackInfo {
  temporalAddress: string;
  temporalNamespace: string;
  /** Temporal Web UI, or null when headless. */
  temporalUiUrl: string | null;
  mongoUri: string;
  /** True when `mongoUri` came from outside and nothing was started for it. */
  externalMongo: boolean;
  /** Base URL of the Messages API stub (for `ANTHROPIC_BASE_URL`), or null. */
  stubUrl: string | null;
  dataDir: string;
  pids: Record<string, number>;
}

export interface Stack extends StackInfo {
  stop(): Promise<void>;
}

const INSTALL_HINT = 'run `bash scripts/setup.sh` (needs python3 with pip and go)';

export async function startStack(options: StackOptions = {}): Promise<Stack> {
  const ownsDataDir = !options.dataDir;
  const dataDir = options.dataDir ?? (await mkdtemp(path.join(os.tmpdir(), 'claude-temporal-stack-')));
  const logDir = options.logDir ?? path.join(dataDir, 'logs');
  await mkdir(logDir, { recursive: true });
  const services: Service[] = [];
  const stopAll = async () => {
    await Promise.all(services.map((s) => s.stop()));
    if (ownsDataDir) await rm(dataDir, { recursive: true, force: true });
  };

  try {
    const externalMongo = options.mongoUri ?? process.env.MONGODB_URI;
    // Start the three in parallel: Temporal takes the longest.
    const [temporal, mongo, stub] = await Promise.all([
      startTemporal({ dataDir, logDir, ui: options.ui ?? false, detached: options.detached ?? false }),
      externalMongo
        ? Promise.resolve({ uri: externalMongo, service: undefined })
        : startMongo({ dataDir: path.join(dataDir, 'mongo'), logFile: path.join(logDir, 'ferretdb.log'), detached: options.detached ?? false }),
      options.stub === false ? Promise.resolve(undefined) : startStubProcess({ logFile: path.join(logDir, 'stub.log'), detached: options.detached ?? false }),
    ]);
    services.push(temporal.service);
    if (mongo.service) services.push(mongo.service);
    if (stub) services.push(stub.service);

    const pids: Record<string, number> = {};
    for (const s of services) pids[s.name] = s.pid;
    return {
      temporalAddress: temporal.address,
      temporalNamespace: 'default',
      temporalUiUrl: temporal.uiUrl,
      mongoUri: mongo.uri,
      externalMongo: Boolean(externalMongo),
      stubUrl: stub?.url ?? null,
      dataDir,
      pids,
      stop: stopAll,
    };
  } catch (err) {
    await stopAll();
    throw err;
  }
}

type TemporalOptions = { dataDir: string; logDir: string; ui: boolean; detached: boolean; port?: number };

/** Tries at taking ports another process may take first (between our look and the server's bind). */
const PORT_TRIES = 3;

/** `port`: the frontend's port (a restart on the same data dir keeps its address); default a free one. */
export async function startTemporal(options: TemporalOptions) {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startTemporalOnce(options);
    } catch (err) {
      if (attempt >= PORT_TRIES || !String((err as Error).message).includes('address already in use')) throw err;
    }
  }
}

async function startTemporalOnce(options: TemporalOptions) {
  const [free, httpPort, metricsPort, uiPort] = await Promise.all([freePort(), freePort(), freePort(), freePort()]);
  const port = options.port ?? free;
  const address = `127.0.0.1:${port}`;
  const args = [
    'server',
    'start-dev',
    '--ip',
    '127.0.0.1',
    '--port',
    String(port),
    '--http-port',
    String(httpPort),
    '--metrics-port',
    String(metricsPort),
    '--db-filename',
    path.join(options.dataDir, 'temporal.sqlite'),
    '--log-level',
    'error',
    // WAL without a disk sync per commit: history survives the server being killed, not a power loss.
    '--sqlite-pragma',
    'journal_mode=wal',
    '--sqlite-pragma',
    'synchronous=normal',
    ...Object.entries(SEARCH_ATTRIBUTES).flatMap(([k, v]) => ['--search-attribute', `${k}=${v}`]),
    ...(options.ui ? ['--ui-port', String(uiPort), '--ui-disable-news-fetch'] : ['--headless']),
  ];
  const { service } = await spawnService({
    name: 'temporal',
    command: temporalCliPath(),
    args,
    logFile: path.join(options.logDir, 'temporal.log'),
    installHint: `${INSTALL_HINT}, or set TEMPORAL_CLI_PATH`,
    detached: options.detached,
    probe: () => temporalReady(address),
  });
  return { service, address, uiUrl: options.ui ? `http://127.0.0.1:${uiPort}` : null };
}

/** Ready means the frontend answers and the default namespace is registered. */
async function temporalReady(address: string): Promise<boolean> {
  const connection = await Connection.connect({ address, connectTimeout: 1_000 });
  try {
    await connection.workflowService.describeNamespace({ namespace: 'default' });
    return true;
  } finally {
    await connection.close();
  }
}

/** Start our FerretDB wrapper; it prints `ready <uri>` once it accepts connections. */
export async function startMongo(options: { dataDir: string; logFile?: string; detached?: boolean; port?: number }) {
  await mkdir(options.dataDir, { recursive: true });
  const { service, readyValue } = await spawnService({
    name: 'ferretdb',
    command: ferretdbServerPath(),
    args: ['-data-dir', options.dataDir, '-listen', `127.0.0.1:${options.port ?? 0}`],
    logFile: options.logFile,
    installHint: `${INSTALL_HINT}, set FERRETDB_SERVER_PATH, or set MONGODB_URI to use a running MongoDB`,
    detached: options.detached ?? false,
    readyLine: readyAddress,
  });
  return { service, uri: readyValue! };
}

/** Start the Messages API stub as its own process; it prints `ready <url>`. */
export async function startStubProcess(options: { logFile?: string; detached?: boolean }) {
  const entry = RUNNING_FROM_DIST
    ? { args: [path.join(PROJECT_ROOT, 'dist', 'stub', 'main.js')] }
    : { args: ['--import', 'tsx', path.join(PROJECT_ROOT, 'src', 'stub', 'main.ts')] };
  const { service, readyValue } = await spawnService({
    name: 'stub',
    command: process.execPath,
    args: entry.args,
    cwd: PROJECT_ROOT,
    logFile: options.logFile,
    installHint: 'Node.js is required',
    detached: options.detached ?? false,
    readyLine: readyAddress,
  });
  return { service, url: readyValue! };
}

/** FerretDB and the stub both print `ready <address>` once they accept connections. */
function readyAddress(line: string): string | undefined {
  return line.startsWith('ready ') ? line.slice('ready '.length).trim() : undefined;
}
