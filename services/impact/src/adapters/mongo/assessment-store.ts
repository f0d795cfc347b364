import type { Collection, Db } from 'mongodb';
import {
  encodeEnvelope,
  isDuplicateKeyError,
  outboxEntry,
  outboxTrace,
  type OutboxAnnouncer,
  type OutboxFields,
} from '@beacon/platform';
import { impactV1 } from '@beacon/proto';
import type { Assessment, AssessmentStore, IncidentFacts, Page } from '../../app/ports.js';
import { assessmentToProto } from '../proto-mapping.js';

/** No relay (tests of the store alone): nothing to mark or tell. */
const NO_RELAY: Pick<OutboxAnnouncer, 'mark' | 'announce'> = {
  mark: async () => {},
  announce: () => {},
};

/** Incident events remembered per assessment, to recognise a re-delivery. */
const HANDLED_EVENTS_KEPT = 64;

export type AssessmentDoc = Omit<Assessment, 'id'> &
  OutboxFields & {
    _id: string;
    /** Ids of the incident events already assessed, newest last. */
    handledEventIds: string[];
  };

/**
 * Assessments, one per incident (replaced as it changes) plus what-if ones. A changed result
 * and its `impact.assessed` event are one document write; the outbox relay publishes it.
 */
export class MongoAssessmentStore implements AssessmentStore {
  readonly collection: Collection<AssessmentDoc>;

  constructor(
    db: Db,
    private readonly ids: () => string,
    /**
     * The relay: it marks every document before the write that gives it an event (see
     * `PendingMarks`), and is told its id afterwards, so it publishes the event at once.
     */
    private readonly outbox: Pick<OutboxAnnouncer, 'mark' | 'announce'> = NO_RELAY,
  ) {
    this.collection = db.collection<AssessmentDoc>('assessments');
  }

  async get(id: string): Promise<Assessment | undefined> {
    const doc = await this.collection.findOne({ _id: id }, { projection: { outbox: 0, handledEventIds: 0 } });
    return doc ? fromDoc(doc) : undefined;
  }

  async incidentPage(after: string | undefined, limit: number): Promise<Page<IncidentFacts>> {
    // Incidents' assessments are `incident-<id>`; what-if ones are not (`.` sorts after `-`).
    const docs = await this.collection
      .find(
        { _id: { $gt: after ? `incident-${after}` : 'incident-', $lt: 'incident.' } },
        { projection: { incidentId: 1, incidentTlp: 1, incidentSectors: 1, affectedAssets: 1 } },
      )
      .sort({ _id: 1 })
      .limit(limit)
      .toArray();
    const items = docs.map((d) => ({
      id: d.incidentId,
      tlp: d.incidentTlp,
      sectors: d.incidentSectors ?? [],
      affectedAssets: d.affectedAssets,
    }));
    return { items, next: docs.length === limit ? items.at(-1)!.id : undefined };
  }

  async handled(id: string, eventId: string): Promise<boolean> {
    const doc = await this.collection.findOne({ _id: id }, { projection: { handledEventIds: 1 } });
    return doc?.handledEventIds.includes(eventId) ?? false;
  }

  async save(
    candidate: Omit<Assessment, 'revision'>,
    causeEventId?: string,
  ): Promise<{ assessment: Assessment; changed: boolean }> {
    for (let attempt = 0; ; attempt++) {
      const existing = await this.collection.findOne({ _id: candidate.id }, { projection: { outbox: 0 } });
      const handled = [...(existing?.handledEventIds ?? []), ...(causeEventId ? [causeEventId] : [])].slice(
        -HANDLED_EVENTS_KEPT,
      );
      if (existing && existing.digest === candidate.digest) {
        if (causeEventId) {
          await this.collection.updateOne({ _id: candidate.id }, { $set: { handledEventIds: handled } });
        }
        return { assessment: fromDoc(existing), changed: false };
      }
      const assessment: Assessment = { ...candidate, revision: (existing?.revision ?? 0) + 1 };
      const event = this.#event(assessment);
      const { id: _id, ...fields } = assessment;
      const entry = outboxEntry(
        {
          id: event.id,
          seq: assessment.revision,
          subject: event.subject,
          data: event.data,
          createdAt: assessment.assessedAt,
        },
        outboxTrace().trace,
      );
      await this.outbox.mark(candidate.id);
      try {
        if (!existing) {
          await this.collection.insertOne({
            _id: candidate.id,
            ...fields,
            handledEventIds: handled,
            outbox: { [event.id]: entry },
          });
        } else {
          // Version-checked by revision: a concurrent save of the same incident retries.
          const result = await this.collection.updateOne(
            { _id: candidate.id, revision: existing.revision },
            { $set: { ...fields, handledEventIds: handled, [`outbox.${event.id}`]: entry } },
          );
          if (result.matchedCount === 0) {
            if (attempt < 5) continue;
            throw new Error(`assessment ${candidate.id} kept changing under a save`);
          }
        }
      } catch (error) {
        if (isDuplicateKeyError(error) && attempt < 5) continue;
        throw error;
      }
      this.outbox.announce(candidate.id);
      return { assessment, changed: true };
    }
  }

  #event(assessment: Assessment) {
    return encodeEnvelope({
      id: this.ids(),
      time: assessment.assessedAt,
      source: 'impact',
      domain: 'impact',
      event: 'assessed',
      subject: assessment.id,
      tlp: assessment.tlp,
      incidentId: assessment.incidentId,
      schema: 'beacon.impact.v1.ImpactAssessed',
      data: impactV1.ImpactAssessed.encode({ assessment: assessmentToProto(assessment) }).finish(),
    });
  }
}

function fromDoc(doc: Partial<AssessmentDoc> & Pick<AssessmentDoc, '_id'>): Assessment {
  const { _id, outbox: _outbox, handledEventIds: _handled, ...fields } = doc;
  const assessment = { ...(fields as Omit<Assessment, 'id'>), id: _id };
  // Stored before places were tallied: none known until the next assessment.
  return {
    ...assessment,
    byPlace: assessment.byPlace ?? [],
    ...(assessment.views ? { views: assessment.views.map((v) => ({ ...v, byPlace: v.byPlace ?? [] })) } : {}),
  };
}
