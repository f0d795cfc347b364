import type { Collection, Db } from 'mongodb';
import { MAX_UPDATE_STATEMENTS } from '@beacon/platform';

/**
 * Which cases name an incident, kept beside the cases so that "an incident's cases" (read once
 * per incident response at triage) is a few lookups by `_id` rather than a filter on
 * `incidentIds`: FerretDB 1.24 serves only a filter that is exactly `{_id: <value>}` from an
 * index and scans the collection for anything else (1.7 s at 20,000 cases, measured); MongoDB
 * declares no index on `incidentIds` either.
 *
 * Layout: a head `{_id: <incident>, count, caseIds}` holding the first `BUCKET` or so ids, and
 * buckets `{_id: <incident>#<n>, caseIds}` of `BUCKET` ids each beyond them. FerretDB rewrites a
 * whole document on every update, so one growing array would make each `$addToSet` cost more
 * as a campaign's incident gathers cases (94 ms at 10,000 ids, 390 ms at 50,000, measured);
 * buckets keep every write small. An incident with few cases (nearly all) costs one read and
 * one write per case opened; past the head, a writer learns its place with one `$inc` on the
 * head's count, then adds to that place's bucket.
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
  caseIds?: string[];
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
    await Promise.all([...groupByIncident(cases)].map(([incident, ids]) => this.#addTo(incident, [...ids])));
  }

  #addInBulk(
    cases: readonly { readonly id: string; readonly incidentIds: readonly string[] }[],
  ): Promise<void> {
    return addInBulk(this, (incident, ids) => this.#addTo(incident, ids), cases);
  }

  async #addTo(incident: string, ids: readonly string[]): Promise<void> {
    const head = (await this.collection.findOne(
      { _id: incident },
      { projection: { count: 1 } },
    )) as HeadDoc | null;
    if ((head?.count ?? 0) + ids.length <= BUCKET) {
      // Writers racing here may take the head a little past `BUCKET`, by at most their number.
      await this.collection.updateOne(
        { _id: incident },
        { $inc: { count: ids.length }, $addToSet: { caseIds: { $each: [...ids] } } },
        { upsert: true },
      );
      return;
    }
    const counted = (await this.collection.findOneAndUpdate(
      { _id: incident },
      { $inc: { count: ids.length } },
      { upsert: true, returnDocument: 'after' },
    )) as HeadDoc | null;
    // Positions `end - ids.length` to `end - 1` are this writer's; bucket 0 is the head. The
    // count is raised before the ids are added, so a reader that sees an id's bucket's
    // position counted reads that bucket (see `caseIds`).
    const end = counted?.count ?? ids.length;
    const buckets = new Map<number, string[]>();
    ids.forEach((id, i) => {
      const bucket = Math.floor((end - ids.length + i) / BUCKET);
      buckets.set(bucket, [...(buckets.get(bucket) ?? []), id]);
    });
    await Promise.all(
      [...buckets].map(([bucket, members]) =>
        this.collection.updateOne(
          { _id: bucket === 0 ? incident : bucketId(incident, bucket) },
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
    const last = Math.floor((head.count - 1) / BUCKET);
    const docs = await Promise.all(
      Array.from({ length: Math.max(0, last) }, (_, n) =>
        this.collection.findOne({ _id: bucketId(incident, n + 1) }),
      ),
    );
    const ids = new Set<string>(head.caseIds ?? []);
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
    const flush = async () => {
      await this.#addInBulk(batch);
      entered += batch.length;
      batch = [];
    };
    for await (const c of all()) {
      batch.push(c);
      if (batch.length >= 2_000) await flush();
    }
    await flush();
    await this.collection.updateOne({ _id: BACKFILLED }, { $set: { count: entered } }, { upsert: true });
    return entered;
  }
}

/**
 * `add` for a backfill batch: the incidents whose ids all fit in the head as it stands are
 * written in few commands (one per `MAX_UPDATE_STATEMENTS`) rather than one each; the rest as
 * `add` does. Both are `$inc` and `$addToSet`, so live writers running beside it are unharmed.
 */
async function addInBulk(
  membership: IncidentMembership,
  addTo: (incident: string, ids: readonly string[]) => Promise<void>,
  cases: readonly { readonly id: string; readonly incidentIds: readonly string[] }[],
): Promise<void> {
  const byIncident = groupByIncident(cases);
  const small = [...byIncident].filter(([, ids]) => ids.size <= BUCKET / 10);
  for (let i = 0; i < small.length; i += MAX_UPDATE_STATEMENTS) {
    const heads = await Promise.all(
      small.slice(i, i + MAX_UPDATE_STATEMENTS).map(async ([incident, ids]) => ({
        incident,
        ids: [...ids],
        count:
          (
            (await membership.collection.findOne(
              { _id: incident },
              { projection: { count: 1 } },
            )) as HeadDoc | null
          )?.count ?? 0,
      })),
    );
    const fit = heads.filter((h) => h.count + h.ids.length <= BUCKET);
    if (fit.length > 0) {
      await membership.collection.bulkWrite(
        fit.map(({ incident, ids }) => ({
          updateOne: {
            filter: { _id: incident },
            update: { $inc: { count: ids.length }, $addToSet: { caseIds: { $each: ids } } },
            upsert: true,
          },
        })),
        { ordered: false },
      );
    }
    for (const h of heads.filter((h) => h.count + h.ids.length > BUCKET)) await addTo(h.incident, h.ids);
  }
  for (const [incident, ids] of byIncident) if (ids.size > BUCKET / 10) await addTo(incident, [...ids]);
}

function groupByIncident(
  cases: readonly { readonly id: string; readonly incidentIds: readonly string[] }[],
): Map<string, Set<string>> {
  const byIncident = new Map<string, Set<string>>();
  for (const c of cases) {
    for (const incident of c.incidentIds) {
      let ids = byIncident.get(incident);
      if (!ids) byIncident.set(incident, (ids = new Set()));
      ids.add(c.id);
    }
  }
  return byIncident;
}

const bucketId = (incident: string, n: number) => `${incident}#${n}`;
