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

/** No relay (tests of the store alone): nothing to mark, claim or tell. */
const NO_RELAY: Relay = {
  mark: async () => {},
  claimForWrite: () => undefined,
  announceCreated: () => {},
};

type Relay = Pick<OutboxAnnouncer, 'mark' | 'announceCreated'> & {
  claimForWrite(): ReturnType<OutboxAnnouncer['claimForWrite']> | undefined;
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
     * `PendingMarks`); the insert carries its claim, and it is handed the event as written, so
     * it publishes it at once with no read and no claim of its own (a claim by `_id` with an
     * `$or`, which FerretDB answers by reading every acknowledgement).
     */
    private readonly outbox: Relay = NO_RELAY,
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
    const outbox = {
      [event.id]: outboxEntry(
        { id: event.id, seq: 1, subject: event.subject, data: event.data, createdAt: ack.at },
        outboxTrace().trace,
      ),
    };
    const claim = this.outbox.claimForWrite();
    try {
      await this.collection.insertOne({ _id, ...fields, outbox, ...claim });
    } catch (error) {
      if (!isDuplicateKeyError(error)) throw error;
      const existing = await this.collection.findOne({ _id }, { projection: { at: 1 } });
      return { first: false, acknowledgedAt: existing?.at ?? ack.at };
    }
    if (claim) this.outbox.announceCreated(_id, { outbox, ...claim });
    return { first: true, acknowledgedAt: ack.at };
  }
}
