import type { Collection, Db } from 'mongodb';
import { isDuplicateKeyError } from '@beacon/platform';
import type { Jurisdiction } from '@beacon/domain';
import type { NeedKind, SupportOrganisation } from '../../domain/model.js';
import { VictimsError } from '../../app/errors.js';
import type { OrganisationStore, StoredOrganisation } from '../../app/ports.js';

interface OrganisationDoc {
  _id: string;
  name: string;
  jurisdictions: string[];
  languages: string[];
  needsCovered: string[];
  crisisCapable: boolean;
  capacity: number;
  accepting: boolean;
  /** Free places: capacity minus referrals held; taken and given back one at a time. */
  spare: number;
  version: number;
  updatedAt: Date;
}

function fields(org: SupportOrganisation) {
  return {
    name: org.name,
    jurisdictions: [...org.jurisdictions],
    languages: [...org.languages],
    needsCovered: [...org.needsCovered],
    crisisCapable: org.crisisCapable,
    capacity: org.capacity,
    accepting: org.accepting,
  };
}

function fromDoc(doc: OrganisationDoc): StoredOrganisation {
  return {
    id: doc._id,
    name: doc.name,
    jurisdictions: doc.jurisdictions as Jurisdiction[],
    languages: doc.languages,
    needsCovered: doc.needsCovered as NeedKind[],
    crisisCapable: doc.crisisCapable,
    capacity: doc.capacity,
    accepting: doc.accepting,
    spare: doc.spare,
    version: doc.version,
  };
}

/**
 * The support-organisation registry. Places are counted on the organisation's document with
 * single-document atomic updates: taking one matches only while one is free, so two cases
 * never get the last place. (A process that dies between taking a place and writing its
 * referral leaves one place taken; an admin's capacity update does not repair that by
 * itself, which is a known limit of counting without transactions.)
 */
export class MongoOrganisationStore implements OrganisationStore {
  readonly collection: Collection<OrganisationDoc>;

  constructor(db: Db) {
    this.collection = db.collection<OrganisationDoc>('organisations');
  }

  async get(id: string): Promise<StoredOrganisation | undefined> {
    const doc = await this.collection.findOne({ _id: id });
    return doc ? fromDoc(doc) : undefined;
  }

  async list(): Promise<StoredOrganisation[]> {
    return (await this.collection.find({}).sort({ _id: 1 }).limit(10_000).toArray()).map(fromDoc);
  }

  async create(org: SupportOrganisation): Promise<StoredOrganisation> {
    const doc: OrganisationDoc = {
      _id: org.id,
      ...fields(org),
      spare: org.capacity,
      version: 1,
      updatedAt: new Date(),
    };
    try {
      await this.collection.insertOne(doc);
    } catch (error) {
      if (isDuplicateKeyError(error)) {
        throw new VictimsError('already-exists', `support organisation ${org.id} is registered`);
      }
      throw error;
    }
    return fromDoc(doc);
  }

  async update(org: SupportOrganisation, expectedVersion: number): Promise<StoredOrganisation> {
    const existing = await this.collection.findOne({ _id: org.id });
    if (!existing) throw new VictimsError('not-found', `no support organisation ${org.id}`);
    if (existing.version !== expectedVersion) {
      throw new VictimsError(
        'conflict',
        `${org.id} is at version ${existing.version}, not ${expectedVersion}`,
      );
    }
    const doc = await this.collection.findOneAndUpdate(
      { _id: org.id, version: expectedVersion },
      {
        $set: { ...fields(org), updatedAt: new Date() },
        // Free places move with the capacity; places held stay held.
        $inc: { spare: org.capacity - existing.capacity, version: 1 },
      },
      { returnDocument: 'after' },
    );
    if (!doc) throw new VictimsError('conflict', `${org.id} changed meanwhile; read it again`);
    return fromDoc(doc);
  }

  async reserve(id: string): Promise<boolean> {
    // No projection: FerretDB 1.24's findAndModify does not implement one.
    const doc = await this.collection.findOneAndUpdate(
      { _id: id, accepting: true, spare: { $gt: 0 } },
      { $inc: { spare: -1 } },
    );
    return doc !== null;
  }

  async release(id: string): Promise<void> {
    await this.collection.updateOne({ _id: id }, { $inc: { spare: 1 } });
  }
}
