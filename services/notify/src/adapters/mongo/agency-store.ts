import type { Collection, Db } from 'mongodb';
import { ensureIndexes, isDuplicateKeyError } from '@beacon/platform';
import type { Agency } from '../../domain/agency.js';
import type { Subscription } from '../../domain/subscription.js';
import { NotifyError } from '../../app/errors.js';
import type { AgencyStore, StoredAgency } from '../../app/ports.js';

type AgencyFields = Omit<Agency, 'id' | 'engagedIncidentIds'>;

export interface AgencyDoc extends AgencyFields {
  _id: string;
  version: number;
}

export interface SubscriptionDoc extends Omit<Subscription, 'id'> {
  /** `<agencyId>:<subscription id>`: subscription ids are the agency's own. */
  _id: string;
  subscriptionId: string;
}

const fromDoc = ({ _id, version, ...fields }: AgencyDoc): StoredAgency => ({
  ...fields,
  id: _id,
  version,
  engagedIncidentIds: [],
});

const subscriptionFromDoc = ({ _id: _key, subscriptionId, ...fields }: SubscriptionDoc): Subscription => ({
  ...fields,
  id: subscriptionId,
});

/** The registry's change counter, one document. */
interface RegistryDoc {
  _id: 'agencies';
  revision: number;
}

export class MongoAgencyStore implements AgencyStore {
  readonly agencies: Collection<AgencyDoc>;
  readonly subscriptionDocs: Collection<SubscriptionDoc>;
  readonly #registry: Collection<RegistryDoc>;

  constructor(db: Db) {
    this.agencies = db.collection<AgencyDoc>('agencies');
    this.subscriptionDocs = db.collection<SubscriptionDoc>('subscriptions');
    this.#registry = db.collection<RegistryDoc>('registry');
  }

  async revision(): Promise<number> {
    return (await this.#registry.findOne({ _id: 'agencies' }))?.revision ?? 0;
  }

  /**
   * Raised after the change is stored, so that a replica that sees the new revision and then
   * reads the registry finds the change. Filtered by `_id` alone: FerretDB serves only that
   * filter from an index.
   */
  async #changed(): Promise<void> {
    await this.#registry.updateOne({ _id: 'agencies' }, { $inc: { revision: 1 } }, { upsert: true });
  }

  async init(): Promise<void> {
    await ensureIndexes(this.subscriptionDocs, [{ key: { agencyId: 1 }, name: 'by_agency' }]);
  }

  async get(id: string): Promise<StoredAgency | undefined> {
    const doc = await this.agencies.findOne({ _id: id });
    return doc ? fromDoc(doc) : undefined;
  }

  async put(agency: Omit<Agency, 'engagedIncidentIds'>, expectedVersion: number): Promise<StoredAgency> {
    const { id, ...fields } = agency;
    if (expectedVersion === 0) {
      const doc: AgencyDoc = { _id: id, ...fields, version: 1 };
      try {
        await this.agencies.insertOne(doc);
      } catch (error) {
        if (isDuplicateKeyError(error)) throw new NotifyError('already-exists', `agency ${id} exists`);
        throw error;
      }
      await this.#changed();
      return fromDoc(doc);
    }
    const doc = await this.agencies.findOneAndUpdate(
      { _id: id, version: expectedVersion },
      { $set: fields, $inc: { version: 1 } },
      { returnDocument: 'after' },
    );
    if (doc) {
      await this.#changed();
      return fromDoc(doc);
    }
    const exists = await this.agencies.findOne({ _id: id }, { projection: { version: 1 } });
    throw exists
      ? new NotifyError('conflict', `agency ${id} is at version ${exists.version}, not ${expectedVersion}`)
      : new NotifyError('not-found', `no agency ${id}`);
  }

  async list(after: string | undefined, limit: number) {
    const docs = await this.agencies
      .find(after ? { _id: { $gt: after } } : {})
      .sort({ _id: 1 })
      .limit(limit + 1)
      .toArray();
    const items = docs.slice(0, limit).map(fromDoc);
    return { items, next: docs.length > limit ? items.at(-1)?.id : undefined };
  }

  async all() {
    const [agencies, subscriptions] = await Promise.all([
      this.agencies.find({}).toArray(),
      this.subscriptionDocs.find({}).toArray(),
    ]);
    const byAgency = new Map<string, Subscription[]>();
    for (const doc of subscriptions) {
      const list = byAgency.get(doc.agencyId) ?? [];
      list.push(subscriptionFromDoc(doc));
      byAgency.set(doc.agencyId, list);
    }
    return agencies.map((doc) => ({ agency: fromDoc(doc), subscriptions: byAgency.get(doc._id) ?? [] }));
  }

  async subscriptions(agencyId: string): Promise<Subscription[]> {
    const docs = await this.subscriptionDocs.find({ agencyId }).sort({ _id: 1 }).toArray();
    return docs.map(subscriptionFromDoc);
  }

  async putSubscription(subscription: Subscription): Promise<void> {
    const { id, ...fields } = subscription;
    const _id = `${subscription.agencyId}:${id}`;
    await this.subscriptionDocs.replaceOne({ _id }, { subscriptionId: id, ...fields }, { upsert: true });
    await this.#changed();
  }

  async deleteSubscription(agencyId: string, id: string): Promise<boolean> {
    const deleted = (await this.subscriptionDocs.deleteOne({ _id: `${agencyId}:${id}` })).deletedCount === 1;
    if (deleted) await this.#changed();
    return deleted;
  }
}
