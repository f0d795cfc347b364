import type { ChannelOptions } from '@grpc/grpc-js';

/**
 * Channel options for every Beacon gRPC client: round-robin over every address the target
 * resolves to. A `host:port` target is resolved by DNS: a ClusterIP Service gives one address
 * (the same as grpc-js's default, pick-first), a headless Service one per pod, over which calls
 * are then spread. The servers' maximum connection age makes clients resolve again regularly, so
 * they find replicas added since.
 */
export const GRPC_CLIENT_OPTIONS: ChannelOptions = Object.freeze({
  'grpc.service_config': JSON.stringify({ loadBalancingConfig: [{ round_robin: {} }] }),
});
