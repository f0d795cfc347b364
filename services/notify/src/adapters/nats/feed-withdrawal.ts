import { createHash } from 'node:crypto';
import type { JetStreamManager } from '@nats-io/jetstream';
import type { Tlp } from '@beacon/domain';
import { encodeEnvelope, tlpToProto, type JetStreamPublisher } from '@beacon/platform';
import { notifyV1 } from '@beacon/proto';
import type { AccessWithdrawal, AccessWithdrawalFeed, FeedPurger } from '../../app/ports.js';
import { feedLabelFilters, incidentToken, JetStreamFeedPublisher, parseFeedSubject } from './feeds.js';

export const ACCESS_WITHDRAWN_TYPE = 'notify.access-withdrawn';

/**
 * Purges agencies' copies from BEACON_FEEDS by subject: the feed layout puts the agency, the
 * incident and the label in the subject, so one filtered purge removes exactly one agency's
 * copies of one incident (or of all) under one label, and nothing of anyone else's.
 */
export class JetStreamFeedPurger implements FeedPurger {
  constructor(
    private readonly jsm: () => Promise<JetStreamManager>,
    private readonly stream: string,
    private readonly root: string,
  ) {}

  async purge(agencyId: string, incidentId: string, labels: readonly Tlp[]): Promise<string[]> {
    const jsm = await this.jsm();
    const wanted = new Set(labels);
    // What the agency's feed holds under these labels, by subject: which incidents (for the
    // notices) and whether there is anything to purge at all (a withdrawal that concerns every
    // agency costs one look per agency that holds nothing).
    const held = new Map<Tlp, Set<string>>();
    const looks =
      incidentId === '*'
        ? feedLabelFilters(this.root, agencyId, '*', [...wanted])
        : [`${this.root}.${agencyId}.${incidentToken(incidentId)}.>`];
    for (const filter of looks) {
      const info = await jsm.streams.info(this.stream, { subjects_filter: filter });
      for (const [subject, count] of Object.entries(info.state.subjects ?? {})) {
        const parsed = parseFeedSubject(this.root, subject);
        if (!parsed || count === 0 || !wanted.has(parsed.tlp)) continue;
        held.set(parsed.tlp, (held.get(parsed.tlp) ?? new Set()).add(parsed.incidentToken));
      }
    }
    const incidents = new Set<string>();
    for (const [tlp, tokens] of held) {
      for (const filter of feedLabelFilters(this.root, agencyId, incidentId, [tlp])) {
        await jsm.streams.purge(this.stream, { filter });
      }
      for (const token of tokens) incidents.add(token);
    }
    return [...incidents].sort();
  }
}

/** Puts access-withdrawn notices in agencies' feeds, deduplicated by what caused them. */
export class JetStreamAccessWithdrawalFeed implements AccessWithdrawalFeed {
  readonly #publisher: JetStreamFeedPublisher;

  constructor(publisher: JetStreamPublisher, root: string) {
    this.#publisher = new JetStreamFeedPublisher(publisher, root);
  }

  async publish(notice: AccessWithdrawal): Promise<void> {
    const id = `wd-${createHash('sha256').update(`${notice.agencyId}\n${notice.dedupKey}`).digest('hex').slice(0, 32)}`;
    const event = encodeEnvelope({
      id,
      time: notice.at,
      source: 'notify',
      domain: 'notify',
      event: 'access-withdrawn',
      subject: `${notice.agencyId}:${notice.incidentId}`,
      // It names the incident by id only: nothing above what the agency may still read.
      tlp: notice.tlp,
      incidentId: notice.incidentId,
      schema: 'beacon.notify.v1.AccessWithdrawn',
      data: notifyV1.AccessWithdrawn.encode({
        incidentId: notice.incidentId,
        agencyId: notice.agencyId,
        reason: notice.reason,
        withdrawnLabels: notice.labels.map(tlpToProto),
        withdrawnAt: notice.at,
      }).finish(),
    });
    await this.#publisher.publish([
      {
        agencyId: notice.agencyId,
        eventId: id,
        type: ACCESS_WITHDRAWN_TYPE,
        incidentId: notice.incidentId,
        tlp: notice.tlp,
        envelope: event.data,
      },
    ]);
  }
}
