import { encodeEnvelope, type JetStreamPublisher } from '@beacon/platform';
import { notifyV1 } from '@beacon/proto';
import type { EngagementNotice, EngagementNoticeFeed } from '../../app/ports.js';
import { engagementNoticeToProto } from '../proto-mapping.js';
import { JetStreamFeedPublisher } from './feeds.js';

export const ENGAGEMENT_NOTICE_TYPE = 'notify.engagement-requested';

/**
 * Publishes engagement notices into the agency's feed, where the gRPC stream, webhooks and
 * e-mail pick them up like any feed event. The message id is the notice's, so a republished
 * notice is dropped by the stream.
 */
export class JetStreamEngagementNoticeFeed implements EngagementNoticeFeed {
  readonly #publisher: JetStreamFeedPublisher;

  constructor(publisher: JetStreamPublisher, root: string) {
    this.#publisher = new JetStreamFeedPublisher(publisher, root);
  }

  async publish(notice: EngagementNotice): Promise<void> {
    const event = encodeEnvelope({
      id: notice.id,
      time: notice.sentAt,
      source: 'notify',
      domain: 'notify',
      event: 'engagement-requested',
      subject: `${notice.agencyId}:${notice.incidentId}`,
      // The notice carries the incident's id and level only (see EngagementNotice in the proto).
      tlp: 'GREEN',
      incidentId: notice.incidentId,
      schema: 'beacon.notify.v1.EngagementNotice',
      data: notifyV1.EngagementNotice.encode(engagementNoticeToProto(notice)).finish(),
    });
    await this.#publisher.publish([
      {
        agencyId: notice.agencyId,
        eventId: notice.id,
        type: ENGAGEMENT_NOTICE_TYPE,
        incidentId: notice.incidentId,
        tlp: 'GREEN',
        envelope: event.data,
      },
    ]);
  }
}
