import { credentials, experimental, type ChannelCredentials, type ChannelOptions } from '@grpc/grpc-js';
import type { GrpcClientTls } from './config.js';
import { DEFAULT_TLS_REFRESH_MS } from './grpc-server.js';

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

/**
 * The credentials of a process's gRPC clients: plaintext without TLS settings; else TLS that
 * trusts only the given CA and checks each server's certificate against the host of the
 * client's target, presenting the client certificate when there is one. grpc-js reads the files
 * again every `refreshMs` (its certificate provider), so new connections use a rotated
 * certificate or CA without a restart. Make one per process and share it between its clients:
 * one file watcher serves them all.
 */
export function grpcChannelCredentials(
  tls: GrpcClientTls | undefined,
  refreshMs = DEFAULT_TLS_REFRESH_MS,
): ChannelCredentials {
  if (!tls) return credentials.createInsecure();
  const files = new experimental.FileWatcherCertificateProvider({
    caCertificateFile: tls.caFile,
    ...(tls.certFile && tls.keyFile ? { certificateFile: tls.certFile, privateKeyFile: tls.keyFile } : {}),
    refreshIntervalMs: refreshMs,
  });
  return experimental.createCertificateProviderChannelCredentials(files, tls.certFile ? files : null);
}
