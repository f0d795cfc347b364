import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import type { NatsConnection } from '@nats-io/nats-core';
import type { Logger } from '@beacon/platform';
import { notifyV1 } from '@beacon/proto';
import {
  acknowledgedSignal,
  acknowledgeSignal,
  engagementWorkflowId,
  responseWorkflowId,
  type AcknowledgementInput,
} from '../workflows/definitions.js';
import { DurableConsumer } from './durable-consumer.js';

export interface AcknowledgementSignallerOptions {
  readonly nc: NatsConnection;
  readonly stream: string;
  readonly subjectRoot: string;
  readonly durable: string;
  readonly client: Client;
  readonly logger: Logger;
}

/**
 * Turns notify's `notify.acknowledged` events (feed reply, gRPC, signed link) into a signal to
 * the agency's AgencyEngagement, which stops escalating and reports to its response. When that
 * engagement no longer runs (it gave up, or was never started) the response itself is
 * signalled; when neither exists the incident has no response and the event is dropped. Both
 * workflows keep the first acknowledgement only, so a redelivered event changes nothing.
 */
export class AcknowledgementSignaller {
  readonly #consumer: DurableConsumer;

  constructor(options: AcknowledgementSignallerOptions) {
    this.#consumer = new DurableConsumer({
      nc: options.nc,
      stream: options.stream,
      subjects: [`${options.subjectRoot}.notify.acknowledged`],
      durable: options.durable,
      logger: options.logger,
      handle: async (envelope) => {
        const event = notifyV1.EngagementAcknowledged.decode(envelope.data);
        const ack: AcknowledgementInput = {
          agencyId: event.agencyId,
          via: event.via,
          note: event.note,
          atMs: (event.acknowledgedAt ?? envelope.time ?? new Date()).getTime(),
        };
        const { client } = options;
        try {
          await client.workflow
            .getHandle(engagementWorkflowId(event.incidentId, event.agencyId))
            .signal(acknowledgeSignal, ack);
          return;
        } catch (error) {
          if (!(error instanceof WorkflowNotFoundError)) throw error;
        }
        try {
          await client.workflow
            .getHandle(responseWorkflowId(event.incidentId))
            .signal(acknowledgedSignal, ack);
        } catch (error) {
          if (!(error instanceof WorkflowNotFoundError)) throw error;
          options.logger.info(
            { incidentId: event.incidentId, agencyId: event.agencyId },
            'acknowledgement for an incident without a response; dropped',
          );
        }
      },
    });
  }

  start(): Promise<void> {
    return this.#consumer.start();
  }

  stop(): Promise<void> {
    return this.#consumer.stop();
  }
}
