import type { Collection, Db } from 'mongodb';
import { GroupCommit } from '@beacon/platform';
import type { CorrelationIndex } from '../../app/ports.js';

interface CorrelationDoc {
  /** The keyed hash of a normalised observable: the indicator itself is never stored here. */
  _id: string;
  /** When each incident last saw the hash, by incident id. */
  seen: Record<string, Date>;
}

/** Stale entries one lookup removes from a document at most; the next lookup takes more. */
const MAX_REMOVED_PER_LOOKUP = 500;

/**
 * The incidents each correlation hash was seen on. Every read and write filters on `_id`
 * alone, the one lookup FerretDB serves from an index, and `$max` makes recording atomic
 * without a condition in the filter.
 */
export class MongoCorrelationIndex implements CorrelationIndex {
  readonly collection: Collection<CorrelationDoc>;
  readonly #writes: GroupCommit<CorrelationDoc>;

  constructor(db: Db) {
    this.collection = db.collection<CorrelationDoc>('correlation');
    this.#writes = new GroupCommit(this.collection);
  }

  /**
   * Entries older than `since` can never correlate again (every lookup looks back the same
   * window), so they are removed on the way: without that, an indicator seen on every
   * incident for years — a public resolver, a cloud provider's address — would grow its
   * document without end. One update per document removes them, on the condition that each
   * still has the time read: when another replica saw one again meanwhile, nothing is removed
   * and a later lookup tries again.
   */
  async find(hashes: readonly string[], since: Date) {
    const docs = await Promise.all([...new Set(hashes)].map((_id) => this.collection.findOne({ _id })));
    const latest = new Map<string, number>();
    const seenWith = new Map<string, string[]>();
    const removals: Promise<unknown>[] = [];
    for (const doc of docs) {
      if (!doc) continue;
      const stale: Record<string, Date> = {};
      for (const [incidentId, at] of Object.entries(doc.seen)) {
        if (at >= since) {
          latest.set(incidentId, Math.max(latest.get(incidentId) ?? 0, at.getTime()));
          seenWith.set(incidentId, [...(seenWith.get(incidentId) ?? []), doc._id]);
        } else if (Object.keys(stale).length < MAX_REMOVED_PER_LOOKUP) stale[`seen.${incidentId}`] = at;
      }
      const fields = Object.keys(stale);
      if (fields.length > 0) {
        removals.push(
          this.collection.updateOne(
            { _id: doc._id, ...stale },
            { $unset: Object.fromEntries(fields.map((f) => [f, ''])) },
          ),
        );
      }
    }
    await Promise.all(removals);
    return [...latest]
      .sort((a, b) => b[1] - a[1])
      .map(([incidentId]) => ({ incidentId, hashes: seenWith.get(incidentId) ?? [] }));
  }

  /**
   * Hashes seen for the first time — most of them, in a stream of new reports — are created by
   * insert; the others are raised with `$max`. Both go out with concurrent reports' writes
   * (group commit): FerretDB takes one write at a time per database.
   */
  async record(hashes: readonly string[], incidentId: string, at: Date): Promise<void> {
    const unique = [...new Set(hashes)];
    if (unique.length === 0) return;
    const stored = await this.#writes.insert(unique.map((_id) => ({ _id, seen: { [incidentId]: at } })));
    await Promise.all(
      unique
        .filter((_, i) => !stored[i])
        .map((_id) => this.#writes.updateById(_id, { $max: { [`seen.${incidentId}`]: at } })),
    );
  }
}
