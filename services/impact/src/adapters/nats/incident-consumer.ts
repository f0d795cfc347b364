import type { NatsConnection } from '@nats-io/nats-core';
import { DurableConsumerAdapter, TerminateEvent, tlpFromProto, type Logger } from '@beacon/platform';
import { intakeV1, type eventsV1 } from '@beacon/proto';
import type { ImpactService, IncidentFacts } from '../../app/impact-service.js';

/** The incident events that can change what an incident directly affects. */
const PAYLOADS = {
  'beacon.incident.opened.v1': (data: Uint8Array) => intakeV1.IncidentOpened.decode(data).incident,
  'beacon.incident.severity-changed.v1': (data: Uint8Array) => intakeV1.SeverityChanged.decode(data).incident,
  'beacon.incident.report-attached.v1': (data: Uint8Array) => intakeV1.ReportAttached.decode(data).incident,
} as const satisfies Record<string, (data: Uint8Array) => intakeV1.Incident | undefined>;

const isHandled = (type: string): type is keyof typeof PAYLOADS => type in PAYLOADS;

export interface IncidentConsumerOptions {
  readonly nc: NatsConnection;
  readonly stream: string;
  readonly subjectRoot: string;
  /** Durable consumer name, shared by every impact replica so each event is handled once. */
  readonly durable: string;
  readonly service: ImpactService;
  readonly logger: Logger;
}

/** The incident an event carries, as impact assesses it; terminates one it cannot read. */
export function incidentFacts(envelope: eventsV1.Envelope): IncidentFacts {
  if (!isHandled(envelope.type)) throw new TerminateEvent(`impact does not handle ${envelope.type}`);
  let incident: intakeV1.Incident | undefined;
  try {
    incident = PAYLOADS[envelope.type](envelope.data);
  } catch {
    throw new TerminateEvent('undecodable');
  }
  if (!incident) throw new TerminateEvent('event without an incident');
  return {
    id: incident.id,
    tlp: tlpFromProto(incident.tlp) ?? 'RED',
    sectors: incident.sectors,
    affectedAssets: incident.affectedAssets.map((a) => ({ assetId: a.assetId, loss: a.loss || 1 })),
  };
}

/**
 * Assesses incidents as intake announces them: the platform's durable consumer on the events
 * stream, one event at a time in stream order, a delayed redelivery when the assessment fails
 * (the store or intake away), given up after 20 deliveries. Handling is idempotent by event id
 * (see `ImpactService.onIncident`).
 */
export class IncidentConsumer extends DurableConsumerAdapter {
  constructor(options: IncidentConsumerOptions) {
    const { service, logger } = options;
    super({
      nc: options.nc,
      stream: options.stream,
      subjects: ['opened', 'severity-changed', 'report-attached'].map(
        (e) => `${options.subjectRoot}.incident.${e}`,
      ),
      durable: options.durable,
      logger,
      concurrency: 1,
      maxDeliver: 20,
      handle: async (envelope) => {
        const facts = incidentFacts(envelope);
        const outcome = await service.onIncident(envelope.id, facts);
        logger.debug({ eventId: envelope.id, incidentId: facts.id, outcome }, 'incident event handled');
      },
    });
  }
}
