import {
  Client,
  type ChannelCredentials,
  type ClientReadableStream,
  type Metadata,
  type ServiceError,
} from '@grpc/grpc-js';
import { GRPC_CLIENT_OPTIONS, grpcClientInterceptors } from '@beacon/platform';

/** Passes bytes through: the gateway forwards requests without decoding them. */
const identity = (value: Buffer) => value;

/** Metadata the gateway passes on to the service; everything else stays at the door. */
export const FORWARDED_METADATA = [
  'authorization',
  'idempotency-key',
  'traceparent',
  'tracestate',
  'x-request-id',
];

/**
 * A gRPC channel to one upstream service, calling any of its methods with already-encoded
 * requests, over the gateway's client credentials (plaintext or TLS). The service checks
 * everything again itself: the gateway is not trusted to.
 */
export class Upstream {
  readonly #client: Client;

  /**
   * Without keepalive pings: a ping on a connection the server has retired (its maximum age)
   * makes grpc-js drop it, with the calls and streams still on it (see platform's
   * `startGrpcServer`). Calls end by their deadlines.
   */
  constructor(address: string, credentials: ChannelCredentials) {
    this.#client = new Client(address, credentials, {
      ...GRPC_CLIENT_OPTIONS,
      'grpc.max_receive_message_length': 8 * 1024 * 1024,
      interceptors: grpcClientInterceptors(),
    });
  }

  call(
    path: string,
    request: Buffer,
    metadata: Metadata,
    deadline: Date,
    signal: AbortSignal,
  ): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      const call = this.#client.makeUnaryRequest<Buffer, Buffer>(
        path,
        identity,
        identity,
        request,
        metadata,
        { deadline },
        (error: ServiceError | null, response?: Buffer) => (error ? reject(error) : resolve(response!)),
      );
      signal.addEventListener('abort', () => call.cancel(), { once: true });
    });
  }

  /** A server-streaming call, bytes in and bytes out. */
  stream(
    path: string,
    request: Buffer,
    metadata: Metadata,
    deadline: Date | undefined,
  ): ClientReadableStream<Buffer> {
    return this.#client.makeServerStreamRequest<Buffer, Buffer>(
      path,
      identity,
      identity,
      request,
      metadata,
      deadline ? { deadline } : {},
    );
  }

  close(): void {
    this.#client.close();
  }
}
