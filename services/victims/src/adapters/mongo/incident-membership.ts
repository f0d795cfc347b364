import type { Collection, Db } from 'mongodb';

/**
 * Which cases name an incident, kept beside the cases so that "an incident's cases" (read once
 * per incident response at triage) is a few lookups by `_id` rather than a filter on
 * `incidentIds`: FerretDB 1.24 serves only a filter that is exactly `{_id: <value>}` from an
 * index and scans the collection for anything else (1.7 s at 20,000 cases, measured); MongoDB
 * declares no index on `incidentIds` either.
 *
 * Layout: a head `{_id: <incident>, count}` and buckets `{_id: <incident>#<n>, caseIds}` of at
 * most `BUCKET` ids each. FerretDB rewrites a whole document on every update, so one growing
 * array would make each `$addToSet` cost more as a campaign's incident gathers cases (94 ms at
 * 10,000 ids, 390 ms at 50,000, measured); buckets keep every write small. A writer learns its
 * place with one `$inc` on the head, so it needs no read first.
 *
 * Consistency without transactions: membership is written BEFORE the case (`CaseStore.insert`),
 * and a case's incidents never change after it opens. So every stored case is in its
 * incidents' buckets; what a failure between the two writes can leave is the other way round,
 * an id with no case (or an id twice, in two buckets, when the insert is retried), and readers
 * look every listed case up by `_id` and skip those that do not exist. A head counted up by a
 * writer that then failed leaves a bucket short or missing, which readers tolerate likewise.
 * Nothing is ever removed: cases are not deleted (erasure keeps the document, without its key).
 */
export const BUCKET = 500;

interface HeadDoc {
  _id: string;
  count: number;
}
interface BucketDoc {
  _id: string;
  caseIds: string[];
}
type MembershipDoc = HeadDoc | BucketDoc;

/**
 * Marks that every case written before this release has been entered (see `backfill`); an id
 * no incident can have (incident ids never contain `#`).
 */
const BACKFILLED = '#backfilled';

export class IncidentMembership {
  readonly collection: Collection<MembershipDoc>;

  constructor(db: Db) {
    this.collection = db.collection<MembershipDoc>('case_incidents');
  }

  /** Enters cases under their incidents; each incident costs two writes whatever the count. */
  async add(
    cases: readonly { readonly id: string; readonly incidentIds: readonly string[] }[],
  ): Promise<void> {
    const byIncident = new Map<string, Set<string>>();
    for (const c of cases) {
      for (const incident of c.incidentIds) {
        let ids = byIncident.get(incident);
        if (!ids) byIncident.set(incident, (ids = new Set()));
        ids.add(c.id);
      }
    }
    await Promise.all([...byIncident].map(([incident, ids]) => this.#addTo(incident, [...ids])));
  }

  async #addTo(incident: string, ids: readonly string[]): Promise<void> {
    const head = (await this.collection.findOneAndUpdate(
      { _id: incident },
      { $inc: { count: ids.length } },
      { upsert: true, returnDocument: 'after' },
    )) as HeadDoc | null;
    // Positions `end - ids.length` to `end - 1` are this writer's: split them over their buckets.
    const end = head?.count ?? ids.length;
    const buckets = new Map<number, string[]>();
    ids.forEach((id, i) => {
      const bucket = Math.floor((end - ids.length + i) / BUCKET);
      buckets.set(bucket, [...(buckets.get(bucket) ?? []), id]);
    });
    await Promise.all(
      [...buckets].map(([bucket, members]) =>
        this.collection.updateOne(
          { _id: bucketId(incident, bucket) },
          { $addToSet: { caseIds: { $each: members } } },
          { upsert: true },
        ),
      ),
    );
  }

  /** Every case id entered under the incident, sorted, without repeats (some may not exist). */
  async caseIds(incident: string): Promise<string[]> {
    const head = (await this.collection.findOne({ _id: incident })) as HeadDoc | null;
    if (!head) return [];
    const buckets = Math.ceil(head.count / BUCKET);
    const docs = await Promise.all(
      Array.from({ length: buckets }, (_, n) => this.collection.findOne({ _id: bucketId(incident, n) })),
    );
    const ids = new Set<string>();
    for (const doc of docs) for (const id of (doc as BucketDoc | null)?.caseIds ?? []) ids.add(id);
    return [...ids].sort();
  }

  /** Whether every case older than this release is entered: until then, readers scan. */
  async backfilled(): Promise<boolean> {
    return (await this.collection.findOne({ _id: BACKFILLED })) !== null;
  }

  /**
   * Enters every existing case once (the first start of this release), then sets the mark.
   * Idempotent: a start that dies half-way, or two replicas at once, only repeat ids, which
   * readers drop. Replicas of an older release still writing cases after the mark would leave
   * theirs out: upgrade every replica before, or delete the mark to enter them again.
   */
  async backfill(
    all: () => AsyncIterable<{ readonly id: string; readonly incidentIds: readonly string[] }>,
  ): Promise<number> {
    let batch: { id: string; incidentIds: readonly string[] }[] = [];
    let entered = 0;
    for await (const c of all()) {
      batch.push(c);
      if (batch.length >= 2_000) {
        await this.add(batch);
        entered += batch.length;
        batch = [];
      }
    }
    await this.add(batch);
    entered += batch.length;
    await this.collection.updateOne({ _id: BACKFILLED }, { $set: { count: entered } }, { upsert: true });
    return entered;
  }
}

const bucketId = (incident: string, n: number) => `${incident}#${n}`;
