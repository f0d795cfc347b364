import type { Collection, Db } from 'mongodb';
import {
  encodeEnvelope,
  isDuplicateKeyError,
  outboxEntry,
  outboxTrace,
  type OutboxFields,
} from '@beacon/platform';
import { notifyV1 } from '@beacon/proto';
import type { Acknowledgement, AcknowledgementStore } from '../../app/ports.js';

export type AcknowledgementDoc = Omit<Acknowledgement, 'tlp'> &
  OutboxFields & {
    /** `<agencyId>:<incidentId>`: one acknowledgement per engagement. */
    _id: string;
  };

/**
 * Acknowledgements and their `notify.acknowledged` events, written together: the insert that
 * records the first acknowledgement carries the event in its outbox.
 */
export class MongoAcknowledgementStore implements AcknowledgementStore {
  readonly collection: Collection<AcknowledgementDoc>;

  constructor(
    db: Db,
    private readonly ids: () => string,
    private readonly onOutbox: (id: string) => void = () => {},
  ) {
    this.collection = db.collection<AcknowledgementDoc>('acknowledgements');
  }

  async record(ack: Acknowledgement): Promise<{ first: boolean; acknowledgedAt: Date }> {
    const _id = `${ack.agencyId}:${ack.incidentId}`;
    const event = encodeEnvelope({
      id: this.ids(),
      time: ack.at,
      source: 'notify',
      domain: 'notify',
      event: 'acknowledged',
      subject: _id,
      tlp: ack.tlp,
      incidentId: ack.incidentId,
      schema: 'beacon.notify.v1.EngagementAcknowledged',
      data: notifyV1.EngagementAcknowledged.encode({
        agencyId: ack.agencyId,
        incidentId: ack.incidentId,
        via: ack.via,
        note: ack.note,
        acknowledgedAt: ack.at,
      }).finish(),
    });
    const { tlp: _tlp, ...fields } = ack;
    try {
      await this.collection.insertOne({
        _id,
        ...fields,
        outbox: {
          [event.id]: outboxEntry(
            {
              id: event.id,
              seq: 1,
              subject: event.subject,
              data: event.data,
              createdAt: ack.at,
            },
            outboxTrace().trace,
          ),
        },
      });
    } catch (error) {
      if (!isDuplicateKeyError(error)) throw error;
      const existing = await this.collection.findOne({ _id }, { projection: { at: 1 } });
      return { first: false, acknowledgedAt: existing?.at ?? ack.at };
    }
    this.onOutbox(_id);
    return { first: true, acknowledgedAt: ack.at };
  }
}
