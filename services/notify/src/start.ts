import { randomUUID } from 'node:crypto';
import {
  createAuthenticator,
  JetStreamPublisher,
  startService,
  watchConsumerLag,
  type Logger,
} from '@beacon/platform';
import { AgencySnapshot } from './app/agency-snapshot.js';
import { AccessWithdrawals } from './app/access-withdrawals.js';
import { ChannelDelivery } from './app/channel-delivery.js';
import { EngagementNotices } from './app/engagement-notices.js';
import { FanOut } from './app/fan-out.js';
import { FeedAccessCheck, RecentLookups } from './app/feed-access-check.js';
import { NotifyService } from './app/notify-service.js';
import type { Clock } from './app/ports.js';
import { SmtpEmailSender } from './adapters/delivery/email-sender.js';
import { HttpWebhookSender } from './adapters/delivery/webhook-sender.js';
import { FeedStreams } from './adapters/grpc/feed-streams.js';
import { notifyGrpc } from './adapters/grpc/notify-grpc.js';
import { MeteredDeliveryLog, watchCircuits } from './adapters/metrics/notify-metrics.js';
import { AckLinks } from './adapters/http/ack-links.js';
import { startAckServer } from './adapters/http/ack-server.js';
import { MongoAcknowledgementStore } from './adapters/mongo/acknowledgement-store.js';
import { MongoAgencyStore } from './adapters/mongo/agency-store.js';
import { MongoDeadLetterStore } from './adapters/mongo/dead-letters.js';
import { MongoDeliveryLog } from './adapters/mongo/delivery-log.js';
import { MongoEngagementNoticeStore } from './adapters/mongo/engagement-notice-store.js';
import { MongoIncidentFactsStore } from './adapters/mongo/incident-facts-store.js';
import { AckResponder } from './adapters/nats/ack-responder.js';
import { FileSignerCredentialIssuer } from './adapters/nats/credential-issuer.js';
import { JetStreamEngagementNoticeFeed } from './adapters/nats/engagement-notice-feed.js';
import { JetStreamAccessWithdrawalFeed, JetStreamFeedPurger } from './adapters/nats/feed-withdrawal.js';
import { FanOutConsumer, feedsStream, JetStreamFeedPublisher } from './adapters/nats/feeds.js';
import type { NotifyConfig } from './config.js';

export const VERSION = '0.1.0';

export interface RunningNotify {
  readonly port: number;
  /** Where `/metrics` is served. */
  readonly metricsPort: number;
  /** The acknowledgement page's port, when links are enabled. */
  readonly ackPort: number | undefined;
  readonly service: NotifyService;
  stop(): Promise<void>;
}

const systemClock: Clock = { now: () => new Date() };

/**
 * Wires notify: the registry in Mongo, the fan-out from BEACON_EVENTS to the agencies' feeds in
 * BEACON_FEEDS, the push channels reading those feeds, the acknowledgement outbox, and gRPC.
 */
export async function startNotify(
  config: NotifyConfig,
  logger: Logger,
  clock: Clock = systemClock,
): Promise<RunningNotify> {
  const { feeds } = config.nats;
  let ackServer: Awaited<ReturnType<typeof startAckServer>> | undefined;
  const running = await startService({
    component: 'notify',
    version: VERSION,
    config,
    logger,
    streams: [feedsStream(feeds.stream, feeds.root, config.nats.replicas)],
    outbox: { collections: ['acknowledgements'] },
    build: async ({ db, nc, js, relay, metrics }) => {
      const publisher = new JetStreamPublisher(nc);
      const agencies = new MongoAgencyStore(db);
      const deliveries = new MongoDeliveryLog(db);
      const deadLetters = new MongoDeadLetterStore(db);
      await Promise.all([agencies.init(), deliveries.init(), deadLetters.init()]);
      const incidents = new MongoIncidentFactsStore(db);
      // Other replicas' registry changes are seen within five seconds; this one's at once.
      const snapshot = new AgencySnapshot(agencies, 5_000, () => clock.now().getTime());
      const withdrawals = new AccessWithdrawals({
        feeds: new JetStreamFeedPurger(() => js.jetstreamManager(), feeds.stream, feeds.root),
        notices: new JetStreamAccessWithdrawalFeed(publisher, feeds.root),
        clock,
        onRepurgeError: (error) => logger.warn({ err: error }, 'repeated purge of withdrawn copies failed'),
      });
      const fanOut = new FanOut({
        agencies: snapshot,
        incidents,
        feeds: new JetStreamFeedPublisher(publisher, feeds.root),
        withdrawals,
      });
      const notices = new EngagementNotices({
        // The store, not the snapshot: a notice goes to the contact as registered right now.
        agencies,
        incidents,
        notices: new MongoEngagementNoticeStore(db),
        feed: new JetStreamEngagementNoticeFeed(publisher, feeds.root),
        clock,
        ids: randomUUID,
      });
      const fanOutConsumer = new FanOutConsumer({
        nc,
        stream: config.nats.stream,
        subjectRoot: config.nats.subjectRoot,
        durable: config.nats.fanOutConsumer,
        fanOut,
        logger,
      });
      const ackLinks = config.ackLinks
        ? new AckLinks({ ...config.ackLinks, now: () => clock.now() })
        : undefined;
      const email = config.smtp
        ? new SmtpEmailSender({ ...config.smtp, timeoutMs: 15_000, ...(ackLinks ? { ackLinks } : {}) })
        : undefined;
      const channels = new ChannelDelivery({
        nc,
        stream: feeds.stream,
        subjectRoot: feeds.root,
        durable: config.nats.channelsConsumer,
        agencies: snapshot,
        // Asked at every attempt; the registry copy is this replica's, refreshed on every change.
        access: new FeedAccessCheck({ agencies: snapshot, incidents }),
        log: new MeteredDeliveryLog(deliveries, metrics),
        deadLetters,
        webhook: {
          sender: new HttpWebhookSender({ ...config.webhook, clock, ...(ackLinks ? { ackLinks } : {}) }),
        },
        ...(email ? { email: { sender: email } } : {}),
        storm: config.storm,
        retry: config.retry,
        clock,
        random: Math.random,
        logger,
      });
      watchCircuits(metrics, channels);
      watchConsumerLag(metrics, {
        nc,
        consumers: () => [
          { stream: config.nats.stream, consumer: config.nats.fanOutConsumer },
          ...channels.durables().map((consumer) => ({ stream: feeds.stream, consumer })),
        ],
        logger,
      });
      const service = new NotifyService({
        agencies,
        incidents,
        acknowledgements: new MongoAcknowledgementStore(db, randomUUID, relay.announcer('acknowledgements')),
        deliveries,
        clock,
        onChange: async () => {
          snapshot.invalidate();
          await channels.registryChanged();
        },
        withdrawals,
      });
      const streamedIncidents = new RecentLookups((incidentId) => incidents.get(incidentId));
      const acks = new AckResponder({ nc, root: config.nats.ackRoot, service, logger });
      return {
        service,
        grpc: [
          notifyGrpc({
            service,
            notices,
            authenticator: createAuthenticator(config.auth),
            logger,
            nc,
            feeds,
            // The registry itself, not a copy: a stream answers by the agency as registered
            // now. An incident's facts, read at most once a second for all the streams of this
            // replica.
            feedAccess: () => new FeedAccessCheck({ agencies, incidents: streamedIncidents }),
            credentialHours: config.nats.credentialHours,
            webhookAllowCidrs: config.webhook.allowCidrs,
            feedStreams: new FeedStreams(config.feedStreams),
            ...(config.nats.accountSignerFile
              ? { credentials: new FileSignerCredentialIssuer(config.nats.accountSignerFile, feeds.stream) }
              : {}),
          }),
        ],
        dependencies: [fanOutConsumer.health(), ...channels.health()],
        start: async () => {
          await fanOutConsumer.start();
          await channels.start();
          acks.start();
          if (config.ackLinks) {
            ackServer = await startAckServer({
              ...config.ackLinks.http,
              secret: config.ackLinks.secret,
              service,
              now: () => clock.now(),
              logger,
            });
          }
        },
        stop: async () => {
          await ackServer?.stop();
          await acks.stop();
          await fanOutConsumer.stop();
          withdrawals.stop();
          await channels.stop();
          email?.close();
        },
      };
    },
  });
  return {
    port: running.port,
    metricsPort: running.metricsPort,
    ackPort: ackServer?.port,
    service: running.parts.service,
    stop: running.stop,
  };
}
