/**
 * Grows the services' stores quickly with the raw driver: copies of incidents the pipeline
 * really made (each with everything the services stored that names it), under fresh ids.
 */
import { ObjectId, type Db, type Document, type MongoClient } from 'mongodb';

/** Collections never copied: a hash chain's records (audit) would no longer verify. */
const NOT_COPIED = /^(system\.|audit)/;

/** `id` with its last ten characters replaced by `n` in decimal (digits fit any id alphabet). */
export function variantId(id: string, n: number): string {
  const tail = String(n).padStart(10, '0');
  return id.length > 14 ? id.slice(0, -10) + tail : `${id}-${tail}`;
}

/** Every string in `value`, depth first (plain objects and arrays only). */
function* strings(value: unknown): Generator<string> {
  if (typeof value === 'string') yield value;
  else if (Array.isArray(value)) for (const item of value) yield* strings(item);
  else if (isPlain(value)) for (const item of Object.values(value)) yield* strings(item);
}

function isPlain(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && Object.getPrototypeOf(value) === Object.prototype;
}

/** `value` with every occurrence of each key of `ids` in its strings replaced; other values shared. */
function replaced(value: unknown, ids: ReadonlyMap<string, string>, pattern: RegExp): unknown {
  if (typeof value === 'string') return value.replace(pattern, (found) => ids.get(found)!);
  if (Array.isArray(value)) return value.map((item) => replaced(item, ids, pattern));
  if (isPlain(value)) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, replaced(v, ids, pattern)]));
  }
  return value;
}

/**
 * The ids of copy `n` of an incident's family: the incident's own by `variantId`; an id that
 * contains it (a notice named after the response's workflow) with the incident's new id in its
 * place, so no copy keeps the template's id in its own (a later seed of the same templates
 * would take such a copy for one of the template's documents and copy it again); any other by
 * `variantId`, or with `~n` after it where two would come out the same.
 */
export function copyIds(family: Iterable<string>, incidentId: string, n: number): Map<string, string> {
  const incident = variantId(incidentId, n);
  const ids = new Map<string, string>();
  const taken = new Set<string>();
  for (const id of family) {
    let variant =
      id === incidentId
        ? incident
        : id.includes(incidentId)
          ? id.replaceAll(incidentId, incident)
          : variantId(id, n);
    if (taken.has(variant)) variant = `${id}~${n}`;
    taken.add(variant);
    ids.set(id, variant);
  }
  return ids;
}

interface Family {
  /** Ids of the incident and of the documents naming it, each copy gets its own. */
  readonly ids: Set<string>;
  /** Documents naming the incident, by database and collection. */
  readonly docs: { readonly db: Db; readonly collection: string; readonly doc: Document }[];
}

export interface SeedResult {
  readonly seconds: number;
  /** Documents inserted per `database.collection`. */
  readonly inserted: Record<string, number>;
  /** Documents per copy, per `database.collection` (what one seeded incident brings). */
  readonly perIncident: Record<string, number>;
}

/**
 * Inserts `count` copies of the `templates` incidents, round robin, in `databases`: every
 * document (other than audit records) in which a template's id appears in any string, with the
 * ids of the incident and of those documents replaced by fresh ones and any outbox emptied
 * (nothing left to publish). `firstNumber` numbers the copies apart from earlier seeds.
 */
export async function seedCopies(
  mongo: MongoClient,
  databases: readonly string[],
  templates: readonly string[],
  count: number,
  firstNumber = 0,
): Promise<SeedResult> {
  if (templates.length === 0) throw new Error('no incident to copy');
  const started = performance.now();
  const families = new Map<string, Family>(templates.map((id) => [id, { ids: new Set([id]), docs: [] }]));
  const templatePattern = new RegExp(templates.map(escape).join('|'));
  for (const name of databases) {
    const db = mongo.db(name);
    for (const { name: collection } of await db.listCollections({}, { nameOnly: true }).toArray()) {
      if (NOT_COPIED.test(collection)) continue;
      for await (const doc of db.collection(collection).find({})) {
        const named = new Set<string>();
        for (const s of strings(doc))
          for (const m of s.match(new RegExp(templatePattern, 'g')) ?? []) named.add(m);
        // A document naming several templates (a merge) would tie copies together: left out.
        if (named.size !== 1) continue;
        const family = families.get([...named][0]!)!;
        family.docs.push({ db, collection, doc });
        if (typeof doc['_id'] === 'string') family.ids.add(doc['_id']);
      }
    }
  }
  const inserted: Record<string, number> = {};
  const perIncident: Record<string, number> = {};
  const first = families.get(templates[0]!)!;
  for (const { db, collection } of first.docs) {
    const key = `${db.databaseName}.${collection}`;
    perIncident[key] = (perIncident[key] ?? 0) + 1;
  }
  const batches = new Map<string, { db: Db; collection: string; docs: Document[] }>();
  const flush = async (key: string) => {
    const batch = batches.get(key);
    if (!batch || batch.docs.length === 0) return;
    await batch.db.collection(batch.collection).insertMany(batch.docs, { ordered: false });
    inserted[key] = (inserted[key] ?? 0) + batch.docs.length;
    batch.docs = [];
  };
  for (let i = 0; i < count; i++) {
    const family = families.get(templates[i % templates.length]!)!;
    const n = firstNumber + i;
    const ids = copyIds(family.ids, templates[i % templates.length]!, n);
    const pattern = new RegExp(
      [...ids.keys()]
        .sort((a, b) => b.length - a.length)
        .map(escape)
        .join('|'),
      'g',
    );
    for (const { db, collection, doc } of family.docs) {
      const copy = replaced(doc, ids, pattern) as Document;
      if (copy['_id'] instanceof ObjectId) copy['_id'] = new ObjectId();
      else if (copy['_id'] === doc['_id']) copy['_id'] = `${String(doc['_id'])}~${n}`;
      if (isPlain(copy['outbox'])) copy['outbox'] = {};
      const key = `${db.databaseName}.${collection}`;
      let batch = batches.get(key);
      if (!batch) batches.set(key, (batch = { db, collection, docs: [] }));
      batch.docs.push(copy);
      if (batch.docs.length >= 1_000) await flush(key);
    }
  }
  for (const key of batches.keys()) await flush(key);
  return { seconds: (performance.now() - started) / 1000, inserted, perIncident };
}

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
