import {
  jetstreamManager,
  type JetStreamClient,
  type JetStreamManager,
  type StoredMsg,
} from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import { EVENTS_DUPLICATE_WINDOW_NS, type StreamSpec } from '@beacon/platform';
import {
  isVictimKind,
  kindToken,
  matchesTimelineQuery,
  type NumberedTimelineEntry,
  type TimelinePage,
  type TimelineQuery,
} from '../domain/timeline.js';

/**
 * Every response's timeline, entry by entry, outside the workflow (whose state keeps only the
 * newest): a JetStream stream with one subject per incident and kind,
 * `<root>.<incidentId>.<r|v>.<kind>` (`v` for victim follow-up, `r` for the rest). JetStream
 * indexes messages by subject, so reading one incident's entries costs what that incident holds,
 * not what every incident holds (a document store without a compound index would scan them all).
 */
export interface TimelineStore {
  /**
   * Appends the entries, in order. Each is published with the message id
   * `<incidentId>:<seq>`, so a retried batch stores nothing twice.
   */
  append(incidentId: string, entries: readonly NumberedTimelineEntry[]): Promise<void>;
  /** One page, or undefined when nothing of the incident is stored (a response from before the store). */
  page(query: TimelineQuery): Promise<TimelinePage | undefined>;
}

/**
 * The timeline stream: on disk, kept for good (a timeline is the incident's record), read by
 * direct get, deduplicating republished entries for as long as the events stream does.
 */
export function timelineStream(name: string, subjectRoot: string, replicas = 1): StreamSpec {
  return {
    name,
    subjects: [`${subjectRoot}.>`],
    allow_direct: true,
    duplicate_window: EVENTS_DUPLICATE_WINDOW_NS,
    num_replicas: replicas,
  };
}

const INCIDENT_TOKEN = /^[A-Za-z0-9_-]{1,80}$/;
/** Entries asked of the server at once. */
const BATCH = 256;

export class JetStreamTimelineStore implements TimelineStore {
  readonly #js: JetStreamClient;
  readonly #jsm: Promise<JetStreamManager>;
  readonly #stream: string;
  readonly #root: string;

  constructor(nc: NatsConnection, js: JetStreamClient, stream: string, subjectRoot: string) {
    this.#js = js;
    this.#jsm = jetstreamManager(nc);
    this.#stream = stream;
    this.#root = subjectRoot;
  }

  #incident(incidentId: string): string {
    if (!INCIDENT_TOKEN.test(incidentId)) throw new Error(`${incidentId} cannot name a timeline subject`);
    return `${this.#root}.${incidentId}`;
  }

  subject(incidentId: string, kind: string): string {
    return `${this.#incident(incidentId)}.${isVictimKind(kind) ? 'v' : 'r'}.${kindToken(kind)}`;
  }

  async append(incidentId: string, entries: readonly NumberedTimelineEntry[]): Promise<void> {
    // One after the other: an entry is stored only after the one before it, so the stream holds
    // them in their order even when a batch fails half way and is retried.
    for (const entry of entries) {
      await this.#js.publish(this.subject(incidentId, entry.kind), JSON.stringify(entry), {
        msgID: `${incidentId}:${entry.seq}`,
      });
    }
  }

  async page(query: TimelineQuery): Promise<TimelinePage | undefined> {
    const prefix = this.#incident(query.incidentId);
    const jsm = await this.#jsm;
    const info = await jsm.streams.info(this.#stream, { subjects_filter: `${prefix}.>` });
    const subjects = info.state.subjects ?? {};
    if (Object.keys(subjects).length === 0) return undefined;
    const victimSummary: Record<string, number> = {};
    for (const [subject, count] of Object.entries(subjects)) {
      const [, cls, kind] = subject.slice(prefix.length).split('.');
      if (cls === 'v' && kind) victimSummary[kind] = (victimSummary[kind] ?? 0) + count;
    }
    // One read per subject asked for (only those holding anything), merged in stream order.
    const filters =
      query.kinds.length === 0
        ? [`${prefix}.r.*`]
        : [...new Set(query.kinds.map((k) => this.subject(query.incidentId, k)))].filter(
            (s) => s in subjects,
          );
    const want = query.pageSize + 1;
    const read = await Promise.all(filters.map((filter) => this.#read(jsm, filter, query, want)));
    const merged = read.flat().sort((a, b) => a.streamSeq - b.streamSeq);
    const entries: NumberedTimelineEntry[] = [];
    let last = query.after ?? 0;
    let resumeAt = 0;
    let more = false;
    for (const { streamSeq, entry } of merged) {
      // A copy stored again after the duplicate window: the number says it is one.
      if (entry.seq <= last) continue;
      if (entries.length === query.pageSize) {
        more = true;
        break;
      }
      entries.push(entry);
      last = entry.seq;
      resumeAt = streamSeq + 1;
    }
    return { entries, ...(more ? { next: { after: last, resumeAt } } : {}), victimSummary };
  }

  /**
   * Up to `want` entries on `filter` matching the query, from where the query resumes (or its
   * `since`). Entries are stored in the order they happened, so the first one at or after
   * `until` ends the read.
   */
  async #read(jsm: JetStreamManager, filter: string, query: TimelineQuery, want: number) {
    const found: { streamSeq: number; entry: NumberedTimelineEntry }[] = [];
    let cursor: { seq: number } | { start_time: Date } =
      query.resumeAt !== undefined
        ? { seq: query.resumeAt }
        : query.sinceMs !== undefined
          ? { start_time: new Date(query.sinceMs) }
          : { seq: 1 };
    for (;;) {
      const batch = await this.#batch(jsm, { ...cursor, next_by_subj: filter, batch: BATCH });
      for (const m of batch) {
        const entry = m.json<NumberedTimelineEntry>();
        if (query.untilMs !== undefined && entry.atMs >= query.untilMs) return found;
        if (entry.seq > (query.after ?? 0) && matchesTimelineQuery(entry, query)) {
          found.push({ streamSeq: m.seq, entry });
          if (found.length >= want) return found;
        }
      }
      const end = batch.at(-1);
      if (!end || end.pending === 0) return found;
      cursor = { seq: end.seq + 1 };
    }
  }

  async #batch(jsm: JetStreamManager, options: Parameters<JetStreamManager['direct']['getBatch']>[1]) {
    const messages: StoredMsg[] = [];
    try {
      for await (const m of await jsm.direct.getBatch(this.#stream, options)) messages.push(m);
    } catch (error) {
      // Nothing (more) on the subject: the server answers 404.
      if ((error as { code?: unknown }).code !== 404) throw error;
    }
    return messages;
  }
}
