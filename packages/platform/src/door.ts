import type { Metadata } from '@grpc/grpc-js';

/**
 * Metadata naming the gateway door a call came through, `rest` or `grpc`, so a service records
 * how a person acted (an acknowledgement "via rest"). The gateway sets it on every call it
 * forwards and never passes a client's own value on (it forwards an allow-list of metadata).
 * A service reads only these two values from it: the doors that prove themselves (a reply on an
 * agency's feed, a signed link) are never taken from metadata, so no caller can claim one.
 */
export const DOOR_METADATA = 'x-beacon-door';

export type GatewayDoor = 'rest' | 'grpc';

/** The door of a call: `rest` when the gateway says so, `grpc` for anything else. */
export function doorOf(metadata: Metadata): GatewayDoor {
  return metadata.get(DOOR_METADATA)[0] === 'rest' ? 'rest' : 'grpc';
}
