import { accessSync, constants, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { jetstreamManager } from '@nats-io/jetstream';
import { credsAuthenticator } from '@nats-io/nats-core';
import { connect } from '@nats-io/transport-node';
import { Connection } from '@temporalio/client';
import { MongoClient } from 'mongodb';
import { installedBinary } from './paths.js';
import type { ProcessSpec } from './process.js';

/** The names of the servers Beacon needs. */
export type ComponentName = 'nats' | 'mongo' | 'temporal';

export const TEMPORAL_NAMESPACE = 'beacon';

/**
 * Search attributes the response workflows keep current, registered when the dev server
 * starts so coordinators can filter on them in the Temporal UI.
 */
export const TEMPORAL_SEARCH_ATTRIBUTES = {
  IncidentId: 'Keyword',
  NcissLevel: 'Int',
  Sectors: 'KeywordList',
  Jurisdictions: 'KeywordList',
  IncidentStatus: 'Keyword',
  Tlp: 'Keyword',
  /** Every agency a response engaged: what an agency's list of its engagements is read from. */
  AgencyIds: 'KeywordList',
} as const;

export interface Ports {
  readonly main: number;
  /** Monitoring (NATS), Web UI (Temporal), HTTP API and metrics (Temporal). */
  readonly extra: readonly number[];
}

export interface ProcessOptions {
  readonly ui: boolean;
  /** NATS only: appended to the generated config file, e.g. operator-mode accounts and auth. */
  readonly natsConfig?: string;
  /** NATS only: the server's name, unique within a cluster (JetStream places replicas by it). */
  readonly serverName?: string;
  /**
   * The FerretDB launcher only (a real mongod ignores it): serve CPU profiles and counts of the
   * commands relayed over HTTP on this address, for benchmarks (see infra/ferretdb/debug.go).
   */
  readonly storeDebugAddress?: string;
}

export interface Component {
  readonly name: ComponentName;
  /** The variable naming a server of the user's own; when set nothing is started. */
  readonly urlVariable: string;
  /** How many extra ports the process needs besides its main one. */
  readonly extraPorts: number;
  /** Its URL given its main port. */
  url(port: number): string;
  /** The process to run, with data and logs under `dir`. */
  process(dir: string, ports: Ports, options: ProcessOptions): ProcessSpec;
  /** Resolves once the server answers a real request; rejects with why not. */
  ready(url: string): Promise<void>;
}

export const nats: Component = {
  name: 'nats',
  urlVariable: 'NATS_URL',
  extraPorts: 1,
  url: (port) => `nats://127.0.0.1:${port}`,
  process(dir, ports, { natsConfig, serverName = 'beacon_local' }) {
    const conf = join(dir, 'nats.conf');
    mkdirSync(dir, { recursive: true });
    // JetStream on disk, as in production; the monitor port serves /healthz and /jsz.
    writeFileSync(
      conf,
      [
        `server_name: ${serverName}`,
        `listen: 127.0.0.1:${ports.main}`,
        `http: 127.0.0.1:${ports.extra[0]}`,
        `max_payload: 8MB`,
        `jetstream {`,
        `  store_dir: ${JSON.stringify(join(dir, 'jetstream'))}`,
        `  max_memory_store: 512MB`,
        `  max_file_store: 20GB`,
        `}`,
        ...(natsConfig === undefined ? [] : [natsConfig]),
      ].join('\n'),
    );
    return {
      name: 'nats',
      command: installedBinary('nats-server'),
      args: ['-c', conf],
      logFile: join(dir, 'nats.log'),
    };
  },
  ready: (url) => natsReady(url),
};

/**
 * Resolves once the NATS server at `url` answers a JetStream account info, connecting as the
 * user of `credsFile` when given (a server in operator mode refuses anonymous clients).
 */
export async function natsReady(url: string, credsFile?: string): Promise<void> {
  const nc = await connect({
    servers: url,
    reconnect: false,
    timeout: 2_000,
    ...(credsFile === undefined ? {} : { authenticator: credsAuthenticator(() => readFileSync(credsFile)) }),
  });
  try {
    await (await jetstreamManager(nc)).getAccountInfo();
  } finally {
    await nc.close();
  }
}

export const mongo: Component = {
  name: 'mongo',
  urlVariable: 'MONGO_URL',
  extraPorts: 0,
  url: (port) => `mongodb://127.0.0.1:${port}/`,
  process(dir, ports, { storeDebugAddress }) {
    const data = join(dir, 'data');
    mkdirSync(data, { recursive: true });
    const logFile = join(dir, 'mongo.log');
    // A real mongod on PATH is preferred; otherwise FerretDB on SQLite speaks the same protocol.
    const mongod = onPath('mongod');
    return mongod
      ? {
          name: 'mongo',
          command: mongod,
          args: ['--dbpath', data, '--port', String(ports.main), '--bind_ip', '127.0.0.1', '--quiet'],
          logFile,
        }
      : {
          name: 'mongo',
          command: installedBinary('beacon-ferretdb'),
          args: [
            ...['-listen', `127.0.0.1:${ports.main}`, '-data', data, '-log-level', 'warn'],
            ...(storeDebugAddress ? ['-debug', storeDebugAddress] : []),
          ],
          logFile,
          env: { DO_NOT_TRACK: '1' },
        };
  },
  async ready(url) {
    const client = new MongoClient(url, { serverSelectionTimeoutMS: 2_000 });
    try {
      await client.db('admin').command({ ping: 1 });
    } finally {
      await client.close();
    }
  },
};

export const temporal: Component = {
  name: 'temporal',
  urlVariable: 'TEMPORAL_ADDRESS',
  extraPorts: 3,
  url: (port) => `127.0.0.1:${port}`,
  process(dir, ports, { ui }) {
    mkdirSync(dir, { recursive: true });
    const [uiPort, httpPort, metricsPort] = ports.extra;
    return {
      name: 'temporal',
      command: installedBinary('temporal'),
      args: [
        'server',
        'start-dev',
        '--ip',
        '127.0.0.1',
        '--port',
        String(ports.main),
        '--http-port',
        String(httpPort),
        '--metrics-port',
        String(metricsPort),
        ...(ui ? ['--ui-port', String(uiPort), '--ui-disable-news-fetch'] : ['--headless']),
        '--db-filename',
        join(dir, 'temporal.db'),
        // WAL lets the UI and visibility queries read while workflows write.
        '--sqlite-pragma',
        'journal_mode=wal',
        '--namespace',
        TEMPORAL_NAMESPACE,
        ...Object.entries(TEMPORAL_SEARCH_ATTRIBUTES).flatMap(([key, type]) => [
          '--search-attribute',
          `${key}=${type}`,
        ]),
        '--log-level',
        'warn',
      ],
      logFile: join(dir, 'temporal.log'),
    };
  },
  async ready(address) {
    const connection = await Connection.connect({ address, connectTimeout: 2_000 });
    try {
      await connection.workflowService.describeNamespace({ namespace: TEMPORAL_NAMESPACE });
      await registerSearchAttributes(connection, TEMPORAL_NAMESPACE);
    } finally {
      await connection.close();
    }
  },
};

export const components: Readonly<Record<ComponentName, Component>> = { nats, mongo, temporal };

/** `temporal.api.enums.v1.IndexedValueType` by the names the dev server's CLI flag takes. */
export const INDEXED_VALUE_TYPES = { Keyword: 2, Int: 3, KeywordList: 7 } as const;

/**
 * Registers the search attributes Beacon's workflows write that the server lacks. The dev
 * server's `--search-attribute` flags did not add a new one to a database an older version of
 * the stack made (seen with `AgencyIds`), and a response that writes an unregistered attribute
 * fails its workflow tasks; so every start checks.
 */
export async function registerSearchAttributes(connection: Connection, namespace: string): Promise<void> {
  const { customAttributes = {} } = await connection.operatorService.listSearchAttributes({ namespace });
  const missing = Object.entries(TEMPORAL_SEARCH_ATTRIBUTES).filter(([name]) => !(name in customAttributes));
  if (missing.length === 0) return;
  await connection.operatorService.addSearchAttributes({
    namespace,
    searchAttributes: Object.fromEntries(missing.map(([name, type]) => [name, INDEXED_VALUE_TYPES[type]])),
  });
}

function onPath(binary: string): string | undefined {
  return (process.env['PATH'] ?? '')
    .split(':')
    .filter(Boolean)
    .map((dir) => join(dir, binary))
    .find(isExecutable);
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}
