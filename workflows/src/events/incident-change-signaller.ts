import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import type { NatsConnection } from '@nats-io/nats-core';
import type { Logger } from '@beacon/platform';
import { intakeV1 } from '@beacon/proto';
import { snapshotFromProto } from '../activities/create-activities.js';
import { incidentChangedSignal, responseWorkflowId } from '../workflows/definitions.js';
import { DurableConsumer } from './durable-consumer.js';

export interface IncidentChangeSignallerOptions {
  readonly nc: NatsConnection;
  readonly stream: string;
  readonly subjectRoot: string;
  readonly durable: string;
  readonly client: Client;
  readonly logger: Logger;
}

/**
 * Tells a response what coordinators changed in intake directly: a new severity (and so other
 * agencies and regimes) or an agency engaged there. The signal carries the incident as the
 * event has it; the response ignores versions it already holds, so a redelivery or the echo of
 * the response's own change does nothing.
 */
export class IncidentChangeSignaller {
  readonly #consumer: DurableConsumer;

  constructor(options: IncidentChangeSignallerOptions) {
    this.#consumer = new DurableConsumer({
      nc: options.nc,
      stream: options.stream,
      subjects: [
        `${options.subjectRoot}.incident.severity-changed`,
        `${options.subjectRoot}.incident.agency-assigned`,
      ],
      durable: options.durable,
      logger: options.logger,
      handle: async (envelope, message) => {
        const incident = message.subject.endsWith('.severity-changed')
          ? intakeV1.SeverityChanged.decode(envelope.data).incident
          : intakeV1.AgencyAssigned.decode(envelope.data).incident;
        if (!incident) return;
        try {
          await options.client.workflow
            .getHandle(responseWorkflowId(incident.id))
            .signal(incidentChangedSignal, snapshotFromProto(incident));
        } catch (error) {
          // No response (yet, or any more): the starter loads the incident as it is when it starts one.
          if (!(error instanceof WorkflowNotFoundError)) throw error;
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
