import type { Collection, Db } from 'mongodb';
import { GroupCommit } from '@beacon/platform';
import type { IndicatorClaim, IndicatorClaimStore } from '../../app/ports.js';

interface ClaimDoc {
  /** The correlation hash: the indicator itself is never stored here either. */
  _id: string;
  incidentId: string;
  reportId: string;
  at: Date;
}

/**
 * Claims on indicators, a collection of their own rather than fields of the correlation index:
 * a claim is won by inserting its `_id` (the unique index decides between two writers), and a
 * correlation document for a hash usually exists already, from incidents long closed, so it
 * could not be created by the winner alone; the index also stays derived data, rebuilt by
 * re-linking, while a claim is a lock. Every read and write filters on `_id` (with the held
 * values, for a take-over), the lookup FerretDB serves from an index.
 */
export class MongoIndicatorClaimStore implements IndicatorClaimStore {
  readonly collection: Collection<ClaimDoc>;
  readonly #writes: GroupCommit<ClaimDoc>;

  constructor(db: Db) {
    this.collection = db.collection<ClaimDoc>('indicator_claims');
    this.#writes = new GroupCommit(this.collection);
  }

  /** Concurrent reports' claims go out as one insert (FerretDB takes one write at a time). */
  async claim(claims: readonly IndicatorClaim[]): Promise<IndicatorClaim[]> {
    const won = await this.#writes.insert(claims.map(toDoc));
    return Promise.all(claims.map(async (claim, i) => (won[i] ? claim : this.#holder(claim))));
  }

  async takeOver(held: IndicatorClaim, claim: IndicatorClaim): Promise<IndicatorClaim> {
    const { modifiedCount } = await this.collection.updateOne(
      { _id: held.hash, incidentId: held.incidentId, reportId: held.reportId, at: held.at },
      { $set: { incidentId: claim.incidentId, reportId: claim.reportId, at: claim.at } },
    );
    return modifiedCount === 1 ? claim : this.#holder(claim);
  }

  /** Claims are never removed: one that lost its insert finds the winner's. */
  async #holder(claim: IndicatorClaim): Promise<IndicatorClaim> {
    const doc = await this.collection.findOne({ _id: claim.hash });
    if (!doc) throw new Error(`the claim on ${claim.hash} vanished`);
    return { hash: doc._id, incidentId: doc.incidentId, reportId: doc.reportId, at: doc.at };
  }
}

function toDoc(claim: IndicatorClaim): ClaimDoc {
  return { _id: claim.hash, incidentId: claim.incidentId, reportId: claim.reportId, at: claim.at };
}
