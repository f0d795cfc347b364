import {
  status,
  type sendUnaryData,
  type ServerUnaryCall,
  type ServerWritableStream,
  type ServiceDefinition,
  type ServiceError,
  type UntypedServiceImplementation,
} from '@grpc/grpc-js';
import { GrpcError, toStatus, unary, type GrpcServiceBinding, type Logger } from '@beacon/platform';
import type { FrontDoor } from './front-door.js';
import { grpcPeerAddress } from './client-address.js';
import { fromUpstream } from './upstream-error.js';

const identity = (value: Buffer) => value;

/**
 * Serves an upstream service's gRPC contract at the gateway, passing requests and responses
 * through as bytes: clients talk to the gateway exactly as they would to the service.
 */
export function grpcPassThrough(
  name: string,
  definition: ServiceDefinition,
  frontDoor: FrontDoor,
  options: { readonly logger: Logger; readonly maxCallMs: number },
): GrpcServiceBinding {
  const passThrough: Record<string, ServiceDefinition[string]> = {};
  const implementation: UntypedServiceImplementation = {};
  for (const [method, def] of Object.entries(definition)) {
    // Client streams have no use in Beacon's contracts; they are not served here.
    if (def.requestStream) continue;
    passThrough[method] = { ...def, requestDeserialize: identity, responseSerialize: identity };
    const rpc = def.path.split('/').at(-1)!;
    if (def.responseStream) {
      implementation[method] = (call: ServerWritableStream<Buffer, Buffer>) =>
        void streamThrough(name, rpc, call, frontDoor, options.logger);
      continue;
    }
    implementation[method] = (call: ServerUnaryCall<Buffer, Buffer>, callback: sendUnaryData<Buffer>) =>
      unary<Buffer, Buffer>(async (request, context) => {
        const headers = (header: string) => {
          const value = context.metadata.get(header)[0];
          return typeof value === 'string' ? value : undefined;
        };
        try {
          const { clientAddress } = await frontDoor.admit(headers, grpcPeerAddress(call.getPeer()));
          return await frontDoor.forward({
            clientAddress,
            service: name,
            rpc,
            request,
            headers,
            door: 'grpc',
            deadline: context.deadline,
            signal: context.signal,
          });
        } catch (error) {
          throw fromUpstream(error);
        }
      }, options)(call, callback);
  }
  return { name, definition: passThrough as ServiceDefinition, implementation };
}

/**
 * A server stream passed through: admitted like any call, then the upstream's messages go to
 * the client as they come, the upstream paused while the client's buffer is full, and the
 * upstream's status (or the client's cancel) ends both sides.
 */
async function streamThrough(
  service: string,
  rpc: string,
  call: ServerWritableStream<Buffer, Buffer>,
  frontDoor: FrontDoor,
  logger: Logger,
): Promise<void> {
  const headers = (header: string) => {
    const value = call.metadata.get(header)[0];
    return typeof value === 'string' ? value : undefined;
  };
  const fail = (error: unknown) => {
    const e = fromUpstream(error);
    call.emit(
      'error',
      e instanceof GrpcError ? toStatus(e) : { code: status.INTERNAL, details: 'internal error' },
    );
  };
  try {
    const { clientAddress } = await frontDoor.admit(headers, grpcPeerAddress(call.getPeer()));
    const deadline = call.getDeadline();
    const upstream = frontDoor.openStream({
      clientAddress,
      service,
      rpc,
      request: call.request,
      headers,
      door: 'grpc',
      deadline:
        deadline instanceof Date ? deadline : Number.isFinite(deadline) ? new Date(deadline) : undefined,
      signal: new AbortController().signal,
    });
    call.on('cancelled', () => upstream.cancel());
    upstream.on('data', (chunk: Buffer) => {
      if (!call.write(chunk)) {
        upstream.pause();
        call.once('drain', () => upstream.resume());
      }
    });
    upstream.on('error', (error: ServiceError) => {
      // The client went away first: nothing to tell it.
      if (call.cancelled) return;
      fail(error);
    });
    upstream.on('end', () => call.end());
  } catch (error) {
    logger.debug({ err: error, service, rpc }, 'stream refused at the door');
    fail(error);
  }
}
