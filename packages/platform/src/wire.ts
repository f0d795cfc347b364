import type { Tlp } from '@beacon/domain';
import { commonV1, eventsV1 } from '@beacon/proto';
import { currentTraceContext } from './tracing.js';

const TLP_TO_PROTO: Record<Tlp, commonV1.Tlp> = {
  CLEAR: commonV1.Tlp.TLP_CLEAR,
  GREEN: commonV1.Tlp.TLP_GREEN,
  AMBER: commonV1.Tlp.TLP_AMBER,
  'AMBER+STRICT': commonV1.Tlp.TLP_AMBER_STRICT,
  RED: commonV1.Tlp.TLP_RED,
};
const TLP_FROM_PROTO = new Map(Object.entries(TLP_TO_PROTO).map(([k, v]) => [v, k as Tlp]));

/** The wire form of a TLP label. */
export const tlpToProto = (tlp: Tlp): commonV1.Tlp => TLP_TO_PROTO[tlp];
/** The label a wire value names; undefined for UNSPECIFIED or an unknown number. */
export const tlpFromProto = (tlp: commonV1.Tlp): Tlp | undefined => TLP_FROM_PROTO.get(tlp);

/** An event in its final wire form: the envelope's bytes, its id, and its subject below the root. */
export interface EncodedEvent {
  readonly id: string;
  /** e.g. `incident.opened`; published as `<root>.<subject>`. */
  readonly subject: string;
  readonly data: Uint8Array;
}

/**
 * Wraps a payload in the CloudEvents-style envelope every Beacon event travels in:
 * type `beacon.<domain>.<event>.v1`, subject `<domain>.<event>`.
 */
export function encodeEnvelope(event: {
  readonly id: string;
  readonly time: Date;
  /** The producing service, e.g. `impact`. */
  readonly source: string;
  readonly domain: string;
  readonly event: string;
  /** The object the event is about. */
  readonly subject: string;
  readonly tlp: Tlp;
  readonly incidentId: string;
  /** Fully qualified name of the payload message. */
  readonly schema: string;
  readonly data: Uint8Array;
  /** Defaults to the active span's context. */
  readonly traceparent?: string;
}): EncodedEvent {
  const envelope: eventsV1.Envelope = {
    id: event.id,
    source: `beacon/${event.source}`,
    type: `beacon.${event.domain}.${event.event}.v1`,
    subject: event.subject,
    time: event.time,
    datacontenttype: 'application/protobuf',
    dataschema: event.schema,
    tlp: tlpToProto(event.tlp),
    incidentId: event.incidentId,
    // The request that caused the event, for readers of the envelope alone (feeds, archives).
    traceparent: event.traceparent ?? currentTraceContext().traceparent ?? '',
    data: event.data,
  };
  return {
    id: event.id,
    subject: `${event.domain}.${event.event}`,
    data: eventsV1.Envelope.encode(envelope).finish(),
  };
}
