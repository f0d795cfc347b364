import type { ServiceDefinition, UntypedServiceImplementation } from '@grpc/grpc-js';
import { unary, type GrpcServiceBinding, type Logger } from '@beacon/platform';
import type { FrontDoor } from './front-door.js';
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
    // Unary calls only: streams (notify's feed) are served by their service directly.
    if (def.requestStream || def.responseStream) continue;
    passThrough[method] = { ...def, requestDeserialize: identity, responseSerialize: identity };
    const rpc = def.path.split('/').at(-1)!;
    implementation[method] = unary<Buffer, Buffer>(async (request, context) => {
      const headers = (header: string) => {
        const value = context.metadata.get(header)[0];
        return typeof value === 'string' ? value : undefined;
      };
      try {
        await frontDoor.admit(headers);
        return await frontDoor.forward({
          service: name,
          rpc,
          request,
          headers,
          deadline: context.deadline,
          signal: context.signal,
        });
      } catch (error) {
        throw fromUpstream(error);
      }
    }, options);
  }
  return { name, definition: passThrough as ServiceDefinition, implementation };
}
