import type { Collection, Db } from 'mongodb';
import { Batcher, type Outcome } from '@beacon/platform';
import { inScope, type ReadScope } from '@beacon/domain';
import { recipientsOf } from '../../domain/access.js';
import { incidentFromDoc, type IncidentDoc } from './documents.js';

interface Entry {
  readonly id: string;
  readonly at: Date;
}

/**
 * An entry as stored: `<openedAt in ms>:<incident id>`. A string, not an object: FerretDB decodes
 * and rewrites the whole document for each `$addToSet`, and with a second's hundred openings as
 * strings that took half the time it took as objects (1.3 against 2.4 ms per entry).
 */
type StoredEntry = string;

const toStored = ({ id, at }: Entry): StoredEntry => `${at.getTime()}:${id}`;

/** The entry a stored one names, or undefined for one this code did not write. */
function fromStored(stored: StoredEntry): Entry | undefined {
  const colon = stored.indexOf(':');
  const ms = Number(stored.slice(0, colon));
  return colon > 0 && Number.isSafeInteger(ms)
    ? { id: stored.slice(colon + 1), at: new Date(ms) }
    : undefined;
}

/**
 * `s:<second>`: the openings of one second. `m:<minute>`: the seconds of that minute that have
 * openings. `h:<hour>`: the minutes of that hour that have openings. `floor`: the hour of the
 * oldest opening entered.
 */
interface IndexDoc {
  readonly _id: string;
  readonly entries?: StoredEntry[];
  readonly seconds?: number[];
  readonly minutes?: number[];
  readonly hour?: number;
}

const SECOND_MS = 1_000;
const MINUTE_MS = 60_000;
const HOUR_MS = 3_600_000;
/** Hours read at once while walking back, at most. */
const HOURS_PER_READ = 24;
/**
 * How far back the walk goes, and how many incidents it reads, before it leaves the page to the
 * query: a caller who may see almost nothing would otherwise walk the whole history.
 */
const MAX_HOURS = 7 * 24;
const MAX_READS = 500;
const FLOOR = 'floor';
/** Openings one write enters at most (a second's document stays well under any size limit). */
const MAX_ENTRIES_PER_WRITE = 500;

const secondOf = (at: Date) => Math.floor(at.getTime() / SECOND_MS);
const minuteOfSecond = (second: number) => Math.floor((second * SECOND_MS) / MINUTE_MS);
const minuteOf = (at: Date) => Math.floor(at.getTime() / MINUTE_MS);
const hourOfMinute = (minute: number) => Math.floor((minute * MINUTE_MS) / HOUR_MS);
/** Newest first, then the greater id first: the list's own order (`openedAt desc, _id desc`). */
const byEntry = (a: Entry, b: Entry) =>
  b.at.getTime() - a.at.getTime() || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0);

/**
 * The incidents' openings by second, with per minute the seconds that have any and per hour the
 * minutes, all documents keyed by `_id`: the default list (newest first, no filter) reads a few
 * of them and the incidents by `_id` instead of the collection, which FerretDB 1.24 reads whole
 * for every other query, sorted by the indexed `openedAt` or not. A write adds to one second's
 * document, which FerretDB rewrites whole: a minute's held 2,700 openings at 45 submissions a
 * second and each write took 12.6 ms under the database's one writer, halving intake's rate; a
 * second's holds tens. The lists above are written once per second and minute. An opening is
 * entered before its incident is stored (an entry without an incident is skipped), so no
 * incident stored through the store is missing; others are entered by `init`.
 */
export class NewestIndex {
  readonly #docs: Collection<IndexDoc>;
  /** The floor as this process last wrote or read it: an opening above it need not lower it. */
  #floor = Number.POSITIVE_INFINITY;
  /** The minute this process last added to its hour's list, the second to its minute's. */
  #listedMinute = -1;
  #listedSecond = -1;
  readonly #entries = new Batcher<Entry>(MAX_ENTRIES_PER_WRITE, (entries) => this.#write(entries));

  constructor(
    db: Db,
    private readonly incidents: Collection<IncidentDoc>,
  ) {
    this.#docs = db.collection<IndexDoc>('incidents_newest');
  }

  /**
   * Enters the stored incidents that have no entry (stored by a release before this one, or by
   * hand): a full read of both collections at start-up, and writes only for what is missing.
   */
  async init(): Promise<void> {
    const entered = new Set<string>();
    for await (const { _id, entries } of this.#docs.find({ entries: { $exists: true } })) {
      if (!_id.startsWith('s:')) continue;
      for (const stored of entries ?? []) entered.add(stored);
    }
    const missing = new Map<number, Entry[]>();
    const all = this.incidents.find({}, { projection: { _id: 1, openedAt: 1 } });
    for await (const { _id, openedAt } of all) {
      if (entered.has(toStored({ id: _id, at: openedAt }))) continue;
      const second = secondOf(openedAt);
      missing.set(second, [...(missing.get(second) ?? []), { id: _id, at: openedAt }]);
    }
    for (const [second, entries] of missing) await this.#add(second, entries);
  }

  /**
   * Enters an opening; called before the incident is stored. Openings entered while a write is
   * under way go together in the next, one `$addToSet` per second: the second's document is
   * rewritten whole by FerretDB, and at 100 openings a second one upsert each took 4.4 ms of
   * the store's time (`pnpm bench intake`), the longest write of an opening.
   */
  async enter(id: string, openedAt: Date): Promise<void> {
    await this.#entries.submit([{ id, at: openedAt }]);
  }

  async #write(entries: Entry[]): Promise<Map<number, Outcome>> {
    const bySecond = new Map<number, Entry[]>();
    for (const entry of entries) {
      const second = secondOf(entry.at);
      bySecond.set(second, [...(bySecond.get(second) ?? []), entry]);
    }
    for (const [second, list] of bySecond) await this.#add(second, list);
    return new Map();
  }

  /** The floor, the hour's list, the minute's, then the second: a reader finds what it is told of. */
  async #add(second: number, entries: Entry[]): Promise<void> {
    const minute = minuteOfSecond(second);
    const hour = hourOfMinute(minute);
    if (hour < this.#floor) {
      await this.#docs.updateOne({ _id: FLOOR }, { $min: { hour } }, { upsert: true });
      this.#floor = hour;
    }
    if (minute !== this.#listedMinute) {
      await this.#docs.updateOne({ _id: `h:${hour}` }, { $addToSet: { minutes: minute } }, { upsert: true });
      this.#listedMinute = minute;
    }
    if (second !== this.#listedSecond) {
      await this.#docs.updateOne(
        { _id: `m:${minute}` },
        { $addToSet: { seconds: second } },
        { upsert: true },
      );
      this.#listedSecond = second;
    }
    await this.#docs.updateOne(
      { _id: `s:${second}` },
      { $addToSet: { entries: { $each: entries.map(toStored) } } },
      { upsert: true },
    );
  }

  /**
   * The newest `count` incidents in scope, newest first (as the query sorts them), or undefined
   * when the walk reached its bounds or the oldest opening first: the caller then asks the query.
   */
  async newest(scope: ReadScope, count: number, now: Date): Promise<IncidentDoc[] | undefined> {
    const found: IncidentDoc[] = [];
    let reads = 0;
    // From the hour after now: another replica's clock may run a little ahead.
    const start = hourOfMinute(minuteOf(now)) + 1;
    const floor = (await this.#docs.findOne({ _id: FLOOR }))?.hour ?? start;
    // One hour, then twice as many at a time up to a day: a quiet stretch is crossed in few
    // round trips, a busy hour usually holds the whole page.
    for (
      let hour = start, batch = 1;
      hour >= floor;
      hour -= batch, batch = Math.min(2 * batch, HOURS_PER_READ)
    ) {
      if (hour <= start - MAX_HOURS) return undefined;
      const keys = Array.from({ length: Math.min(batch, hour - floor + 1) }, (_, i) => `h:${hour - i}`);
      const hours = await Promise.all(keys.map((_id) => this.#docs.findOne({ _id })));
      const minutes = hours.flatMap((h) => [...(h?.minutes ?? [])].sort((a, b) => b - a));
      const seconds = async function* (docs: Collection<IndexDoc>) {
        for (const minute of minutes) {
          const listed = (await docs.findOne({ _id: `m:${minute}` }))?.seconds ?? [];
          yield* [...listed].sort((a, b) => b - a);
        }
      };
      // Newest first; within a second in the query's order, so the walk may stop at `count`.
      for await (const second of seconds(this.#docs)) {
        const stored = (await this.#docs.findOne({ _id: `s:${second}` }))?.entries ?? [];
        const entries = stored.flatMap((e) => fromStored(e) ?? []).sort(byEntry);
        for (let i = 0; i < entries.length; i += count) {
          const chunk = entries.slice(i, i + count);
          reads += chunk.length;
          if (reads > MAX_READS) return undefined;
          const docs = await Promise.all(chunk.map(({ id }) => this.incidents.findOne({ _id: id })));
          chunk.forEach(({ at }, j) => {
            const incident = docs[j];
            // An entry of an opening that lost its race to another attempt has another time:
            // the incident is found by the winner's entry, in its place in the order.
            if (incident?.openedAt.getTime() !== at.getTime()) return;
            if (found.length < count && inScope(scope, recipientsOf(incidentFromDoc(incident))))
              found.push(incident);
          });
          if (found.length === count) return found;
        }
      }
    }
    // Fewer than `count` entered: the query answers, also for incidents stored without an
    // entry (by hand, or by a release before this one since this process started).
    return undefined;
  }
}
