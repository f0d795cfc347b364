import {
  jetstreamManager,
  JetStreamApiCodes,
  JetStreamApiError,
  type ConsumerConfig,
  type ConsumerInfo,
  type JetStreamManager,
  type StreamConfig,
  type StreamInfo,
} from '@nats-io/jetstream';
import { readFileSync } from 'node:fs';
import {
  credsAuthenticator,
  tokenAuthenticator,
  usernamePasswordAuthenticator,
  type Authenticator,
  type NatsConnection,
} from '@nats-io/nats-core';
import { connect } from '@nats-io/transport-node';
import type { Logger } from './logger.js';
import type { NatsAuth, NatsTls } from './nats-auth.js';

export interface NatsConfig {
  /** One or more `nats://host:port` URLs of the same cluster. */
  readonly servers: string | readonly string[];
  /** Shown in the server's connection list (`nats server report connections`). */
  readonly name: string;
  /** None: the server must let the client in without credentials. */
  readonly auth?: NatsAuth;
  /** None: TLS only when the server requires it, verified against Node's trusted roots. */
  readonly tls?: NatsTls;
  /** How long the first connection may take (the client's default: 20 s). */
  readonly connectTimeoutMs?: number;
  readonly logger?: Logger;
}

/** The first connection failed: the servers, the way of authenticating (never a secret) and why. */
export class NatsConnectError extends Error {
  override readonly name = 'NatsConnectError';
}

/**
 * Connects to NATS and keeps reconnecting for as long as the process lives: a broker restart
 * is an ordinary event, never a reason to crash. Status changes are logged. The first
 * connection must succeed: a wrong credential or certificate stops the process at start.
 */
export async function connectNats(config: NatsConfig): Promise<NatsConnection> {
  const servers = typeof config.servers === 'string' ? [config.servers] : [...config.servers];
  let nc: NatsConnection;
  try {
    nc = await connect({
      servers,
      name: config.name,
      ...(config.auth ? { authenticator: authenticator(config.auth) } : {}),
      ...(config.tls ? { tls: { ...config.tls } } : {}),
      ...(config.connectTimeoutMs === undefined ? {} : { timeout: config.connectTimeoutMs }),
      maxReconnectAttempts: -1,
      reconnectTimeWait: 250,
      waitOnFirstConnect: false,
      // The client otherwise builds two errors with stack traces for every request — every
      // JetStream publish — in case it fails: a tenth of a publishing service's CPU, measured.
      // Failures keep their message and cause, losing only the caller's stack.
      noAsyncTraces: true,
    });
  } catch (error) {
    let reason = error instanceof Error ? error.message : String(error);
    // Under TLS 1.3 a server refuses a missing client certificate after the handshake; the
    // client drops that alert and only times out, so say what a timeout may mean.
    if (error instanceof Error && error.name === 'TimeoutError' && !config.tls?.certFile) {
      reason +=
        ' (no answer in time: the server is unreachable, or it requires a TLS client certificate, NATS_TLS_CERT_FILE)';
    }
    throw new NatsConnectError(
      `cannot connect to NATS at ${servers.join(',')} as ${config.name} (${describe(config)}): ${reason}`,
      { cause: error },
    );
  }
  const { logger } = config;
  if (logger) {
    void (async () => {
      for await (const status of nc.status()) {
        if (status.type === 'ping') continue;
        logger.info({ nats: { status: status.type } }, 'nats connection status');
      }
    })();
  }
  return nc;
}

function authenticator(auth: NatsAuth): Authenticator {
  switch (auth.kind) {
    case 'creds':
      return credsAuthenticator(() => readFileSync(auth.file));
    case 'user':
      return usernamePasswordAuthenticator(auth.user, auth.password);
    case 'token':
      return tokenAuthenticator(auth.token);
  }
}

/** What the client presented, for an error message: names and paths, never a secret. */
function describe({ auth, tls }: NatsConfig): string {
  const parts = [
    !auth
      ? 'no credentials'
      : auth.kind === 'creds'
        ? `credentials file ${auth.file}`
        : auth.kind === 'user'
          ? `user ${auth.user}`
          : 'a token',
  ];
  if (tls?.certFile) parts.push(`client certificate ${tls.certFile}`);
  if (tls?.caFile) parts.push(`CA ${tls.caFile}`);
  return parts.join(', ');
}

/** The stream's desired configuration: everything the code relies on, declared in one place. */
export type StreamSpec = Partial<StreamConfig> & Pick<StreamConfig, 'name' | 'subjects'>;

/**
 * Creates the stream, or updates it when the declared configuration differs from the server's.
 * Safe to call from every replica at start: the last writer wins with the same config.
 */
export async function ensureStream(jsm: JetStreamManager, spec: StreamSpec): Promise<StreamInfo> {
  try {
    const info = await jsm.streams.info(spec.name);
    if (differs(spec, info.config)) return await jsm.streams.update(spec.name, spec);
    return info;
  } catch (error) {
    if (isNotFound(error)) return await jsm.streams.add(spec);
    throw error;
  }
}

/** A durable consumer's desired configuration. */
export type ConsumerSpec = Partial<ConsumerConfig> & { durable_name: string };

/** Creates the durable consumer, or updates the fields the server lets change in place. */
export async function ensureConsumer(
  jsm: JetStreamManager,
  stream: string,
  spec: ConsumerSpec,
): Promise<ConsumerInfo> {
  try {
    const name = spec.durable_name;
    const info = await jsm.consumers.info(stream, name);
    if (differs(spec, info.config)) return await jsm.consumers.update(stream, name, spec);
    return info;
  } catch (error) {
    if (isNotFound(error)) return await jsm.consumers.add(stream, spec);
    throw error;
  }
}

/** Convenience for set-up code that holds only a connection. */
export async function ensureStreams(nc: NatsConnection, specs: readonly StreamSpec[]): Promise<StreamInfo[]> {
  const jsm = await jetstreamManager(nc);
  const infos: StreamInfo[] = [];
  for (const spec of specs) infos.push(await ensureStream(jsm, spec));
  return infos;
}

function isNotFound(error: unknown): boolean {
  return (
    error instanceof JetStreamApiError &&
    (error.code === JetStreamApiCodes.StreamNotFound || error.code === JetStreamApiCodes.ConsumerNotFound)
  );
}

function differs(spec: object, actual: object): boolean {
  const current = actual as Record<string, unknown>;
  return Object.entries(spec).some(([key, value]) => JSON.stringify(value) !== JSON.stringify(current[key]));
}

/**
 * The stream every Beacon service publishes its events to (`BEACON_EVENTS`): on disk,
 * deduplicating republished events by `Nats-Msg-Id` for ten minutes, kept 90 days, on
 * `replicas` servers of the cluster (1 on a single server; every service must declare the same
 * number, or they undo each other's update). Each service declares it, so whichever starts
 * first creates it.
 */
export function eventsStream(name: string, subjectRoot: string, replicas = 1): StreamSpec {
  return {
    name,
    subjects: [`${subjectRoot}.>`],
    duplicate_window: EVENTS_DUPLICATE_WINDOW_NS,
    max_age: 90 * 24 * 3600 * 1e9,
    num_replicas: replicas,
  };
}

/**
 * How long the events stream remembers a message id, in nanoseconds: a republished copy within
 * it is dropped. The outbox relay's claims last far less, so a live relay never publishes an
 * event again after this window has passed (see `OutboxRelay`).
 */
export const EVENTS_DUPLICATE_WINDOW_NS = 10 * 60 * 1e9;
