import type { Collection, Db } from 'mongodb';
import {
  encodeEnvelope,
  isDuplicateKeyError,
  outboxEntry,
  outboxTrace,
  type OutboxAnnouncer,
  type OutboxFields,
} from '@beacon/platform';
import { notifyV1 } from '@beacon/proto';
import type { Acknowledgement, AcknowledgementStore } from '../../app/ports.js';

/** No relay (tests of the store alone): nothing to mark or tell. */
const NO_RELAY: Pick<OutboxAnnouncer, 'mark' | 'announce'> = {
  mark: async () => {},
  announce: () => {},
};

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
    /**
     * The relay: it marks the document before the write that gives it its event (see
     * `PendingMarks`), and is told its id afterwards, so it publishes the event at once.
     */
    private readonly outbox: Pick<OutboxAnnouncer, 'mark' | 'announce'> = NO_RELAY,
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
    await this.outbox.mark(_id);
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
    this.outbox.announce(_id);
    return { first: true, acknowledgedAt: ack.at };
  }
}
