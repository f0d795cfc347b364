import { canSendEngagementNotices, type Caller } from '../domain/access.js';
import { NotifyError } from './errors.js';
import type {
  AgencyStore,
  Clock,
  EngagementNotice,
  EngagementNoticeFeed,
  EngagementNoticeStore,
  IncidentFactsStore,
} from './ports.js';

export interface EngagementNoticeRequest {
  readonly incidentId: string;
  readonly agencyId: string;
  readonly contactRank: number;
  readonly idempotencyKey: string;
  /** Empty or absent: the agency itself. */
  readonly regardingAgencyId?: string;
  readonly round: number;
  readonly ncissLevel: number;
  readonly acknowledgeBy?: Date;
}

/**
 * Engagement notices for the response workflows: one contact of an agency's escalation chain
 * is asked, through the agency's feed, to acknowledge. The idempotency key is claimed before
 * anything is sent, and the notice is published under its own id, so a retried call — after a
 * timeout, or from a worker that restarted — returns the first notice and sends no second one.
 * A claim whose publish failed is published on the retry.
 *
 * A notice goes out only once notify itself knows the agency it concerns is engaged: intake's
 * `incident.agency-assigned` event can reach notify after the response has assigned the agency
 * and asked for the notice, and an agency told before then would be refused its
 * acknowledgement. Until then the call is refused as unavailable, and the response's activity
 * retries it.
 */
export class EngagementNotices {
  constructor(
    private readonly deps: {
      readonly agencies: Pick<AgencyStore, 'get'>;
      readonly incidents: Pick<IncidentFactsStore, 'get'>;
      readonly notices: EngagementNoticeStore;
      readonly feed: EngagementNoticeFeed;
      readonly clock: Clock;
      readonly ids: () => string;
    },
  ) {}

  async send(
    caller: Caller,
    request: EngagementNoticeRequest,
  ): Promise<{ readonly notice: EngagementNotice; readonly first: boolean }> {
    if (!canSendEngagementNotices(caller)) {
      throw new NotifyError('permission-denied', 'engagement notices are sent by the response workflows');
    }
    const agency = await this.deps.agencies.get(request.agencyId);
    if (!agency) throw new NotifyError('not-found', `no agency ${request.agencyId}`);
    const contact = agency.contacts[request.contactRank];
    if (!contact) {
      throw new NotifyError(
        'failed-precondition',
        `agency ${request.agencyId} has ${agency.contacts.length} contacts; there is no rank ${request.contactRank}`,
      );
    }
    const regardingAgencyId = request.regardingAgencyId || request.agencyId;
    if (regardingAgencyId !== request.agencyId && !(await this.deps.agencies.get(regardingAgencyId))) {
      throw new NotifyError('not-found', `no agency ${regardingAgencyId}`);
    }
    const facts = await this.deps.incidents.get(request.incidentId);
    if (!facts?.engagedAgencyIds.includes(regardingAgencyId)) {
      throw new NotifyError(
        'unavailable',
        `notify does not know yet that agency ${regardingAgencyId} is engaged on ${request.incidentId}`,
      );
    }
    const candidate: EngagementNotice = {
      id: this.deps.ids(),
      incidentId: request.incidentId,
      agencyId: request.agencyId,
      regardingAgencyId,
      contactRank: request.contactRank,
      contact,
      round: request.round,
      ncissLevel: request.ncissLevel,
      acknowledgeBy: request.acknowledgeBy,
      sentAt: this.deps.clock.now(),
    };
    const { notice, first, published } = await this.deps.notices.claim(request.idempotencyKey, candidate);
    if (!published) {
      await this.deps.feed.publish(notice);
      await this.deps.notices.markPublished(request.idempotencyKey, this.deps.clock.now());
    }
    return { notice, first };
  }
}
