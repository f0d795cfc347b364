import { status as grpcStatus, type ServerWritableStream } from '@grpc/grpc-js';
import { healthV1 } from '@beacon/proto';

interface Watcher {
  notify(status: ServingStatus): void;
  end(): void;
}

export const ServingStatus = healthV1.HealthCheckResponse_ServingStatus;
export type ServingStatus = healthV1.HealthCheckResponse_ServingStatus;

/**
 * Serving status of a process and of each service it hosts, served over `grpc.health.v1`.
 * The empty name stands for the whole server, as the protocol defines.
 */
export class HealthRegistry {
  readonly #statuses = new Map<string, ServingStatus>();
  readonly #watchers = new Map<string, Set<Watcher>>();

  constructor(services: readonly string[]) {
    for (const name of ['', ...services]) this.#statuses.set(name, ServingStatus.SERVING);
  }

  set(service: string, status: ServingStatus): void {
    if (this.#statuses.get(service) === status) return;
    this.#statuses.set(service, status);
    for (const watcher of this.#watchers.get(service) ?? []) watcher.notify(status);
  }

  /** Marks everything NOT_SERVING: load balancers stop sending before the server stops. */
  drain(): void {
    for (const name of this.#statuses.keys()) this.set(name, ServingStatus.NOT_SERVING);
  }

  /** Ends every Watch stream (after its last status), so they do not hold up shutdown. */
  closeWatches(): void {
    for (const watchers of this.#watchers.values()) {
      for (const watcher of watchers) watcher.end();
    }
    this.#watchers.clear();
  }

  get(service: string): ServingStatus | undefined {
    return this.#statuses.get(service);
  }

  /** The gRPC implementation of `grpc.health.v1.Health`. */
  implementation(): healthV1.HealthServer {
    return {
      check: (call, callback) => {
        const status = this.get(call.request.service);
        if (status === undefined) {
          callback({ code: grpcStatus.NOT_FOUND, details: `unknown service "${call.request.service}"` });
          return;
        }
        callback(null, { status });
      },
      list: (_call, callback) => {
        callback(null, {
          statuses: Object.fromEntries([...this.#statuses].map(([name, status]) => [name, { status }])),
        });
      },
      watch: (call) => this.#watch(call),
    };
  }

  #watch(call: ServerWritableStream<healthV1.HealthCheckRequest, healthV1.HealthCheckResponse>) {
    const { service } = call.request;
    const watcher: Watcher = { notify: (status) => call.write({ status }), end: () => call.end() };
    watcher.notify(this.get(service) ?? ServingStatus.SERVICE_UNKNOWN);
    let watchers = this.#watchers.get(service);
    if (!watchers) this.#watchers.set(service, (watchers = new Set()));
    watchers.add(watcher);
    const stop = () => watchers.delete(watcher);
    call.on('cancelled', stop);
    call.on('close', stop);
  }
}
