import { credentials, Metadata } from '@grpc/grpc-js';
import { ServingStatus } from '@beacon/platform';
import { healthV1 } from '@beacon/proto';

/**
 * Resolves when the gRPC server at `address` reports SERVING (`grpc.health.v1`) for `service`
 * (by default the whole server: alive; a service by name is ready, its dependencies answering);
 * rejects otherwise, so `waitFor(() => grpcServing(address))` waits for a service to be up.
 */
export function grpcServing(address: string, service = ''): Promise<void> {
  // A channel of its own: grpc-js shares connections to an address between clients, and one
  // refused while the process was down waits out its reconnect back-off (a second or more)
  // before trying again, which a probe of a process just restarted must not inherit.
  const client = new healthV1.HealthClient(address, credentials.createInsecure(), {
    'grpc.use_local_subchannel_pool': 1,
  });
  return new Promise<void>((resolve, reject) => {
    client.check({ service }, new Metadata(), { deadline: new Date(Date.now() + 1_000) }, (error, r) => {
      client.close();
      if (error) reject(error);
      else if (r.status !== ServingStatus.SERVING) reject(new Error('not serving yet'));
      else resolve();
    });
  });
}
