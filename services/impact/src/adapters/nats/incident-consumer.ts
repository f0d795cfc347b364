import { AckPolicy, jetstream, type ConsumerMessages, type JsMsg } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import { ensureConsumer, tlpFromProto, withConsumerSpan, type Logger } from '@beacon/platform';
import { eventsV1, intakeV1 } from '@beacon/proto';
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

/**
 * Assesses incidents as intake announces them: a durable consumer on the events stream,
 * explicit acks, and a delayed redelivery when the assessment fails (the store or intake
 * away). Handling is idempotent by event id (see `ImpactService.onIncident`).
 */
export class IncidentConsumer {
  #messages: ConsumerMessages | undefined;
  #done: Promise<void> | undefined;

  constructor(private readonly options: IncidentConsumerOptions) {}

  async start(): Promise<void> {
    const { nc, stream, subjectRoot, durable } = this.options;
    const js = jetstream(nc);
    await ensureConsumer(await js.jetstreamManager(), stream, {
      durable_name: durable,
      ack_policy: AckPolicy.Explicit,
      filter_subjects: ['opened', 'severity-changed', 'report-attached'].map(
        (e) => `${subjectRoot}.incident.${e}`,
      ),
      ack_wait: 30 * 1e9,
      max_deliver: 20,
    });
    const consumer = await js.consumers.get(stream, durable);
    this.#messages = await consumer.consume({ max_messages: 32 });
    this.#done = this.#loop(this.#messages);
  }

  async stop(): Promise<void> {
    await this.#messages?.close();
    await this.#done;
  }

  async #loop(messages: ConsumerMessages): Promise<void> {
    for await (const message of messages) {
      await withConsumerSpan(this.options.durable, message, () => this.#handle(message));
    }
  }

  async #handle(message: JsMsg): Promise<void> {
    const { logger, service } = this.options;
    let envelope: eventsV1.Envelope;
    let facts: IncidentFacts | undefined;
    try {
      envelope = eventsV1.Envelope.decode(message.data);
      if (!isHandled(envelope.type)) {
        message.term(`impact does not handle ${envelope.type}`);
        return;
      }
      const incident = PAYLOADS[envelope.type](envelope.data);
      facts = incident && {
        id: incident.id,
        tlp: tlpFromProto(incident.tlp) ?? 'RED',
        sectors: incident.sectors,
        affectedAssets: incident.affectedAssets.map((a) => ({ assetId: a.assetId, loss: a.loss || 1 })),
      };
    } catch (error) {
      logger.error({ err: error, seq: message.seq }, 'undecodable incident event; terminated');
      message.term('undecodable');
      return;
    }
    if (!facts) {
      message.term('event without an incident');
      return;
    }
    try {
      const outcome = await service.onIncident(envelope.id, facts);
      logger.debug({ eventId: envelope.id, incidentId: facts.id, outcome }, 'incident event handled');
      message.ack();
    } catch (error) {
      logger.warn(
        { err: error, eventId: envelope.id, incidentId: facts.id },
        'assessment failed; redelivering',
      );
      message.nak(Math.min(60_000, 1_000 * 2 ** Math.min(6, message.info.deliveryCount)));
    }
  }
}
