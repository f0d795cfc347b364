import { mkdirSync, mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import { jetstreamManager, type StreamInfo } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { nats } from './components.js';
import { infraDir } from './paths.js';
import { freePort } from './ports.js';
import { ManagedProcess } from './process.js';
import { waitFor } from './wait.js';

/** One server of a test's NATS cluster, which the test may kill -9 and restart. */
export interface NatsClusterNode {
  /** Its `server_name`, as stream info reports leaders and replicas (`n1`, `n2`, …). */
  readonly name: string;
  readonly url: string;
  /** Its monitoring endpoint, e.g. for `/healthz` and `/jsz`. */
  readonly monitorUrl: string;
  readonly process: ManagedProcess;
  /**
   * Resolves once the node answers JetStream requests and its `/healthz` says its JetStream
   * state (meta group, streams, consumers) is current with the cluster.
   */
  ready(timeoutMs?: number): Promise<void>;
  /** Starts it again on the same ports and store directory, and waits until it is ready. */
  restart(): Promise<void>;
}

export interface NatsCluster {
  readonly name: string;
  readonly nodes: readonly NatsClusterNode[];
  /** Every node's client URL: what clients connect with, so any node can serve them. */
  readonly urls: readonly string[];
  /** The node named `name` (as in `StreamInfo.cluster.leader`). */
  node(name: string): NatsClusterNode;
  stop(): Promise<void>;
}

export interface NatsClusterOptions {
  /** Servers in the cluster; 3 unless told (a JetStream cluster needs a majority up). */
  readonly size?: number;
}

/**
 * Starts a private NATS cluster with JetStream on loopback: `size` servers on free client,
 * monitoring and route ports, each with its own store directory under .infra/test, routed to
 * one another. Resolves once every node is current, so streams created next may have up to
 * `size` replicas.
 */
export async function startNatsCluster(options: NatsClusterOptions = {}): Promise<NatsCluster> {
  const size = options.size ?? 3;
  if (!Number.isInteger(size) || size < 1) throw new Error(`a cluster needs at least one node, not ${size}`);
  const root = join(infraDir, 'test', 'dedicated');
  mkdirSync(root, { recursive: true });
  const dir = mkdtempSync(join(root, 'nats-cluster-'));
  const clusterName = `beacon_${dir.slice(-6)}`;
  const ports = await Promise.all(
    Array.from({ length: size }, async () => ({
      client: await freePort(),
      monitor: await freePort(),
      route: await freePort(),
    })),
  );
  const routes = ports.map((p) => `nats-route://127.0.0.1:${p.route}`);
  const nodes = ports.map((p, i): NatsClusterNode => {
    const name = `n${i + 1}`;
    const proc = new ManagedProcess(
      nats.process(
        join(dir, name),
        { main: p.client, extra: [p.monitor] },
        {
          ui: false,
          serverName: name,
          natsConfig: [
            'cluster {',
            `  name: ${clusterName}`,
            `  listen: 127.0.0.1:${p.route}`,
            // Every node lists all routes (its own is skipped), so any one can restart alone.
            `  routes: [${routes.join(', ')}]`,
            '}',
          ].join('\n'),
        },
      ),
    );
    const url = nats.url(p.client);
    const monitorUrl = `http://127.0.0.1:${p.monitor}`;
    const ready = (timeoutMs = 60_000) =>
      waitFor(() => nodeReady(url, monitorUrl), {
        what: `NATS cluster node ${name} (log: ${proc.spec.logFile})`,
        timeoutMs,
        abortIf: () => proc.exitReason,
      });
    return {
      name,
      url,
      monitorUrl,
      process: proc,
      ready,
      restart: async () => {
        await proc.restart();
        await ready();
      },
    };
  });
  const stop = async () => {
    await Promise.all(nodes.map((n) => n.process.stop()));
  };
  for (const node of nodes) node.process.start();
  try {
    await Promise.all(nodes.map((n) => n.ready()));
  } catch (error) {
    await stop(); // servers that never formed a cluster must not outlive the test
    throw error;
  }
  return {
    name: clusterName,
    nodes,
    urls: nodes.map((n) => n.url),
    node: (name) => {
      const node = nodes.find((n) => n.name === name);
      if (!node) throw new Error(`no node ${name} in the cluster (${nodes.map((n) => n.name).join(', ')})`);
      return node;
    },
    stop,
  };
}

/** Whether a node answers JetStream (which needs a meta leader) and reports itself healthy. */
async function nodeReady(url: string, monitorUrl: string): Promise<void> {
  const nc = await connect({ servers: url, reconnect: false, timeout: 2_000 });
  try {
    await (await jetstreamManager(nc)).getAccountInfo();
  } finally {
    await nc.close();
  }
  const health = await fetch(`${monitorUrl}/healthz`, { signal: AbortSignal.timeout(2_000) });
  if (!health.ok) throw new Error(`/healthz: ${health.status} ${await health.text()}`);
}

/**
 * Whether every replica of a stream is current: a leader, all `replicas - 1` followers known,
 * each current with no lag. Throws saying which is not, for `waitFor`.
 */
export function assertReplicasCurrent(info: StreamInfo): void {
  const { cluster } = info;
  const want = info.config.num_replicas;
  if (!cluster?.leader) throw new Error(`${info.config.name}: no leader`);
  const followers = cluster.replicas ?? [];
  if (followers.length !== want - 1) {
    throw new Error(`${info.config.name}: ${followers.length} of ${want - 1} followers known`);
  }
  const behind = followers.filter((r) => !r.current || (r.lag ?? 0) > 0 || r.offline);
  if (behind.length > 0) {
    throw new Error(
      `${info.config.name}: behind: ${behind.map((r) => `${r.name} (current ${r.current}, lag ${r.lag ?? 0}${r.offline ? ', offline' : ''})`).join(', ')}`,
    );
  }
}
