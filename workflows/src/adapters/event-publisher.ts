import type { JetStreamClient } from '@nats-io/jetstream';
import { withProducerSpan } from '@beacon/platform';
import type { EventPublisher } from '../activities/create-activities.js';

/** Publishes the response's events under `<subjectRoot>.<subject>`, traced, deduplicated by id. */
export function jetStreamEventPublisher(js: JetStreamClient, subjectRoot: string): EventPublisher {
  return async (subject, data, messageId) => {
    const full = `${subjectRoot}.${subject}`;
    const ack = await withProducerSpan(full, undefined, (headers) =>
      js.publish(full, data, { msgID: messageId, ...(headers ? { headers } : {}) }),
    );
    return { duplicate: ack.duplicate };
  };
}
