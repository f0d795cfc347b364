import type { Server } from '@grpc/grpc-js';
import { ReflectionService } from '@grpc/reflection';
import { DESCRIPTOR_SET_BASE64 } from '@beacon/proto';

type Contracts = ConstructorParameters<typeof ReflectionService>[0];

/** The wire contracts, built once per process from the descriptor set generated from `proto/`. */
let contracts: Contracts | undefined;

/**
 * Serves gRPC server reflection (`grpc.reflection.v1` and `v1alpha`) for exactly the services
 * the server hosts, so grpcurl, Postman or Kreya can list, describe and call them without the
 * `.proto` files. It tells nothing a caller of those services could not learn from the
 * published contracts.
 */
export function addReflection(server: Pick<Server, 'addService'>, services: readonly string[]): void {
  contracts ??= contractsOf(Buffer.from(DESCRIPTOR_SET_BASE64, 'base64'));
  new ReflectionService(contracts, { services: [...services] }).addToServer(server);
}

/**
 * Every file of a serialized `FileDescriptorSet`, handed to the reflection service as it
 * indexes a package: by the file descriptors its entries carry. Not through
 * `@grpc/proto-loader`: a package it loads leaves out the well-known types' files, and clients
 * then cannot resolve `google.protobuf.Timestamp` (grpc/grpc-node#2958).
 */
export function contractsOf(descriptorSet: Buffer): Contracts {
  return {
    beacon: {
      format: 'Protocol Buffer 3 EnumDescriptorProto',
      type: {},
      fileDescriptorProtos: filesOf(descriptorSet),
    },
  };
}

/** The `file` entries (field 1, length-delimited) of a `FileDescriptorSet`, each as its bytes. */
function filesOf(set: Buffer): Buffer[] {
  const files: Buffer[] = [];
  let at = 0;
  const varint = () => {
    let value = 0;
    for (let shift = 0; ; shift += 7) {
      const byte = set[at++];
      if (byte === undefined || shift > 28) throw new Error('malformed descriptor set');
      value += (byte & 0x7f) * 2 ** shift;
      if (byte < 0x80) return value;
    }
  };
  while (at < set.length) {
    if (varint() !== 0x0a) throw new Error('malformed descriptor set: expected a file entry');
    const length = varint();
    if (at + length > set.length) throw new Error('malformed descriptor set: entry runs past the end');
    files.push(set.subarray(at, at + length));
    at += length;
  }
  return files;
}
