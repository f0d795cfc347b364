import { WorkflowNotFoundError } from '@temporalio/client';
import { DurableConsumerAdapter } from '@beacon/platform';
import { notifyV1 } from '@beacon/proto';
import {
  acknowledgedSignal,
  acknowledgeSignal,
  engagementWorkflowId,
  responseWorkflowId,
  type AcknowledgementInput,
} from '../workflows/definitions.js';
import type { EventSignallerOptions } from './event-signaller-options.js';

export type AcknowledgementSignallerOptions = EventSignallerOptions;

/**
 * Turns notify's `notify.acknowledged` events (feed reply, gRPC, signed link) into a signal to
 * the incident's response, which records it and ends the agency's engagement (inside it, or its
 * `agencyEngagement` child in responses from before `inline-engagements`). Only when the
 * response no longer runs is an engagement of its own signalled, and when neither exists the
 * event is dropped. Both keep the first acknowledgement only, so a redelivered event changes
 * nothing.
 */
/** Whether the signal reached its workflow (false: none runs under that id). */
async function delivered(send: () => Promise<void>): Promise<boolean> {
  try {
    await send();
    return true;
  } catch (error) {
    if (error instanceof WorkflowNotFoundError) return false;
    throw error;
  }
}

export class AcknowledgementSignaller extends DurableConsumerAdapter {
  constructor(options: AcknowledgementSignallerOptions) {
    super({
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
        const workflows = options.client.workflow;
        if (
          (await delivered(() =>
            workflows.getHandle(responseWorkflowId(event.incidentId)).signal(acknowledgedSignal, ack),
          )) ||
          (await delivered(() =>
            workflows
              .getHandle(engagementWorkflowId(event.incidentId, event.agencyId))
              .signal(acknowledgeSignal, ack),
          ))
        )
          return;
        options.logger.info(
          { incidentId: event.incidentId, agencyId: event.agencyId },
          'acknowledgement for an incident without a response; dropped',
        );
      },
    });
  }
}
