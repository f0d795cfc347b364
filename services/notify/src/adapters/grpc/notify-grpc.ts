import { status, type ServerWritableStream } from '@grpc/grpc-js';
import { DeliverPolicy, jetstream, type ConsumerMessages } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import {
  authenticateCall,
  authenticatedUnary,
  doorOf,
  GrpcError,
  grpcErrorOf,
  invalidArgument,
  tlpFromProto,
  toStatus,
  type Authenticator,
  type FieldViolation,
  type GrpcServiceBinding,
  type Logger,
} from '@beacon/platform';
import { eventsV1, notifyV1 } from '@beacon/proto';
import { tlpToProto } from '@beacon/platform';
import { AGENCY_ID_PATTERN, parseAgency } from '../../domain/agency.js';
import { parseSubscription } from '../../domain/subscription.js';
import type { EngagementNotices } from '../../app/engagement-notices.js';
import type { FeedAccessCheck } from '../../app/feed-access-check.js';
import type { NotifyService } from '../../app/notify-service.js';
import { parseFeedSubject } from '../nats/feeds.js';
import { DEFAULT_FEED_STREAM_LIMITS, FeedStreamPace, FeedStreams } from './feed-streams.js';
import {
  agencyInputFromProto,
  agencyToProto,
  deliveryToProto,
  engagementNoticeToProto,
  subscriptionInputFromProto,
  subscriptionToProto,
} from '../proto-mapping.js';

/** Issues NATS credentials for an agency's feed; absent when notify holds no signing key. */
export interface FeedCredentialIssuer {
  issue(agencyId: string, ttlHours: number): Promise<notifyV1.IssueFeedCredentialsResponse>;
}

export interface NotifyGrpcDeps {
  readonly service: NotifyService;
  readonly notices: EngagementNotices;
  readonly authenticator: Authenticator;
  readonly logger: Logger;
  readonly nc: NatsConnection;
  readonly feeds: { readonly stream: string; readonly root: string };
  readonly credentials?: FeedCredentialIssuer;
  /** Feed credentials' lifetime when the request names none, and the most it may ask for. */
  readonly credentialHours?: { readonly default: number; readonly max: number };
  /** A fresh check of what an agency may read now, for one stream of its feed. */
  readonly feedAccess: () => FeedAccessCheck;
  /** `WEBHOOK_ALLOW_CIDRS`: IP literals a webhook URL may name although not public. */
  readonly webhookAllowCidrs?: readonly string[];
  /** Open feed streams per agency, and how long one may live or stall. */
  readonly feedStreams?: FeedStreams;
}

const MAX_PAGE = 200;
/** Feed credentials last hours, not days: see `DEFAULT_AGENCY_TTL_SECONDS`. */
export const DEFAULT_CREDENTIAL_HOURS = { default: 8, max: 24 } as const;
const INCIDENT_ID = /^inc_[a-z0-9]{1,64}$/;
const snake = (path: string) => path.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
const violation = (field: string, description: string): FieldViolation => ({
  field,
  description,
  reason: 'INVALID',
});

/** `beacon.notify.v1.NotifyService` over gRPC. */
export function notifyGrpc(deps: NotifyGrpcDeps): GrpcServiceBinding {
  const { service } = deps;
  const feedStreams = deps.feedStreams ?? new FeedStreams(DEFAULT_FEED_STREAM_LIMITS);
  const handle = authenticatedUnary({ authenticator: deps.authenticator, logger: deps.logger });
  const requireAgencyId = (field: string, value: string) => {
    if (!AGENCY_ID_PATTERN.test(value)) throw invalidArgument([violation(field, 'is not an agency id')]);
  };

  const implementation: notifyV1.NotifyServiceServer = {
    putAgency: handle<notifyV1.PutAgencyRequest, notifyV1.PutAgencyResponse>(async (req, caller) => {
      const parsed = parseAgency(agencyInputFromProto(req.agency), {
        webhookAllow: deps.webhookAllowCidrs ?? [],
      });
      const violations = parsed.ok
        ? []
        : parsed.problems.map((p) => violation(`agency.${snake(p.field)}`, p.message));
      if (req.expectedVersion < 0) violations.push(violation('expected_version', 'must not be negative'));
      if (!parsed.ok || violations.length > 0) throw invalidArgument(violations);
      const { engagedIncidentIds: _e, ...agency } = parsed.agency;
      return { agency: agencyToProto(await service.putAgency(caller, agency, req.expectedVersion)) };
    }),

    getAgency: handle<notifyV1.GetAgencyRequest, notifyV1.GetAgencyResponse>(async (req, caller) => {
      requireAgencyId('agency_id', req.agencyId);
      return { agency: agencyToProto(await service.getAgency(caller, req.agencyId)) };
    }),

    listAgencies: handle<notifyV1.ListAgenciesRequest, notifyV1.ListAgenciesResponse>(async (req, caller) => {
      const violations = [
        ...(req.pageSize < 0 || req.pageSize > MAX_PAGE
          ? [violation('page_size', `must be 0 to ${MAX_PAGE}`)]
          : []),
        ...(req.pageToken && !AGENCY_ID_PATTERN.test(req.pageToken)
          ? [violation('page_token', 'is not a valid page token')]
          : []),
      ];
      if (violations.length > 0) throw invalidArgument(violations);
      const page = await service.listAgencies(caller, req.pageToken || undefined, req.pageSize || 50);
      return { agencies: page.items.map(agencyToProto), nextPageToken: page.next ?? '' };
    }),

    putSubscription: handle<notifyV1.PutSubscriptionRequest, notifyV1.PutSubscriptionResponse>(
      async (req, caller) => {
        const parsed = parseSubscription(subscriptionInputFromProto(req.subscription));
        if (!parsed.ok) {
          throw invalidArgument(
            parsed.problems.map((p) => violation(`subscription.${snake(p.field)}`, p.message)),
          );
        }
        return {
          subscription: subscriptionToProto(await service.putSubscription(caller, parsed.subscription)),
        };
      },
    ),

    deleteSubscription: handle<notifyV1.DeleteSubscriptionRequest, notifyV1.DeleteSubscriptionResponse>(
      async (req, caller) => {
        requireAgencyId('agency_id', req.agencyId);
        if (!/^[A-Za-z0-9._-]{1,64}$/.test(req.subscriptionId)) {
          throw invalidArgument([violation('subscription_id', 'is not a subscription id')]);
        }
        await service.deleteSubscription(caller, req.agencyId, req.subscriptionId);
        return {};
      },
    ),

    listSubscriptions: handle<notifyV1.ListSubscriptionsRequest, notifyV1.ListSubscriptionsResponse>(
      async (req, caller) => {
        requireAgencyId('agency_id', req.agencyId);
        return {
          subscriptions: (await service.listSubscriptions(caller, req.agencyId)).map(subscriptionToProto),
        };
      },
    ),

    issueFeedCredentials: handle<notifyV1.IssueFeedCredentialsRequest, notifyV1.IssueFeedCredentialsResponse>(
      async (req, caller) => {
        requireAgencyId('agency_id', req.agencyId);
        const hours = deps.credentialHours ?? DEFAULT_CREDENTIAL_HOURS;
        if (req.ttlHours < 0 || req.ttlHours > hours.max) {
          throw invalidArgument([violation('ttl_hours', `must be 0 (${hours.default}) to ${hours.max}`)]);
        }
        await service.requireFeedManager(caller, req.agencyId);
        if (!deps.credentials) {
          throw new GrpcError(
            status.FAILED_PRECONDITION,
            'this deployment issues no NATS credentials: use StreamFeed',
          );
        }
        return deps.credentials.issue(req.agencyId, req.ttlHours || hours.default);
      },
    ),

    streamFeed: (call) => void streamFeed(deps, feedStreams, call),

    acknowledge: handle<notifyV1.AcknowledgeRequest, notifyV1.AcknowledgeResponse>(
      async (req, caller, ctx) => {
        const violations = [
          ...(AGENCY_ID_PATTERN.test(req.agencyId) ? [] : [violation('agency_id', 'is not an agency id')]),
          ...(INCIDENT_ID.test(req.incidentId) ? [] : [violation('incident_id', 'is not an incident id')]),
          ...(req.note.length > 2_000 ? [violation('note', 'at most 2,000 characters')] : []),
        ];
        if (violations.length > 0) throw invalidArgument(violations);
        // Recorded with the door the agency used (the gateway names it; a caller cannot claim a
        // feed or a link this way).
        const result = await service.acknowledge(
          caller,
          req.agencyId,
          req.incidentId,
          req.note.trim(),
          doorOf(ctx.metadata),
        );
        return { acknowledgedAt: result.acknowledgedAt, first: result.first };
      },
    ),

    listDeliveries: handle<notifyV1.ListDeliveriesRequest, notifyV1.ListDeliveriesResponse>(
      async (req, caller) => {
        requireAgencyId('agency_id', req.agencyId);
        if (!INCIDENT_ID.test(req.incidentId))
          throw invalidArgument([violation('incident_id', 'is not an incident id')]);
        return {
          deliveries: (await service.deliveries(caller, req.agencyId, req.incidentId)).map(deliveryToProto),
        };
      },
    ),

    notifyEngagement: handle<notifyV1.NotifyEngagementRequest, notifyV1.NotifyEngagementResponse>(
      async (req, caller) => {
        const violations = [
          ...(INCIDENT_ID.test(req.incidentId) ? [] : [violation('incident_id', 'is not an incident id')]),
          ...(AGENCY_ID_PATTERN.test(req.agencyId) ? [] : [violation('agency_id', 'is not an agency id')]),
          ...(req.regardingAgencyId && !AGENCY_ID_PATTERN.test(req.regardingAgencyId)
            ? [violation('regarding_agency_id', 'is not an agency id')]
            : []),
          ...(req.contactRank >= 0 && req.contactRank < 10
            ? []
            : [violation('contact_rank', 'must be 0 to 9')]),
          ...(/^[\x21-\x7e]{1,200}$/.test(req.idempotencyKey)
            ? []
            : [violation('idempotency_key', 'must be 1 to 200 printable ASCII characters without spaces')]),
          ...(req.round >= 0 && req.round <= 1_000 ? [] : [violation('round', 'must be 0 to 1,000')]),
          ...(req.ncissLevel >= 0 && req.ncissLevel <= 5 ? [] : [violation('nciss_level', 'must be 0 to 5')]),
        ];
        if (violations.length > 0) throw invalidArgument(violations);
        const { notice, first } = await deps.notices.send(caller, {
          incidentId: req.incidentId,
          agencyId: req.agencyId,
          contactRank: req.contactRank,
          idempotencyKey: req.idempotencyKey,
          regardingAgencyId: req.regardingAgencyId,
          round: req.round || 1,
          ncissLevel: req.ncissLevel,
          ...(req.acknowledgeBy ? { acknowledgeBy: req.acknowledgeBy } : {}),
        });
        return { notice: engagementNoticeToProto(notice), first };
      },
    ),
  };

  return {
    name: 'beacon.notify.v1.NotifyService',
    definition: notifyV1.NotifyServiceService,
    implementation,
  };
}

/**
 * The agency's feed as a server stream: an ordered consumer from the requested sequence,
 * written only as fast as the client reads (a full write buffer pauses the consumer), with a
 * heartbeat while idle so clients and proxies can tell a quiet feed from a dead one. An agency
 * holds a bounded number of streams; each lives a bounded time, and ends when the client takes
 * nothing written to it for a while (`FeedStreamLimits`).
 */
async function streamFeed(
  deps: NotifyGrpcDeps,
  streams: FeedStreams,
  call: ServerWritableStream<notifyV1.StreamFeedRequest, notifyV1.StreamFeedResponse>,
): Promise<void> {
  let messages: ConsumerMessages | undefined;
  let heartbeat: NodeJS.Timeout | undefined;
  let release: (() => void) | undefined;
  let pace: FeedStreamPace | undefined;
  let ended = false;
  const end = (error?: unknown) => {
    if (ended) return;
    ended = true;
    pace?.end();
    clearInterval(heartbeat);
    release?.();
    void messages?.close();
    if (error === undefined) {
      call.end();
      return;
    }
    const e = grpcErrorOf(error);
    // What the client is not told must not be lost: the unary handlers log it too.
    if (!(e instanceof GrpcError))
      deps.logger.error({ err: error }, 'feed stream ended by an unexpected error');
    // A server stream ends with its status through an 'error' event: code, details, metadata.
    call.emit(
      'error',
      e instanceof GrpcError ? toStatus(e) : { code: status.INTERNAL, details: 'internal error' },
    );
  };
  call.on('cancelled', () => end());
  try {
    const req = call.request;
    const caller = await authenticateCall(deps.authenticator, call.metadata);
    if (!AGENCY_ID_PATTERN.test(req.agencyId || caller.agencyId || '')) {
      throw invalidArgument([violation('agency_id', 'is not an agency id')]);
    }
    const agencyId = req.agencyId || caller.agencyId!;
    if (req.heartbeatSeconds < 0 || req.heartbeatSeconds > 300) {
      throw invalidArgument([violation('heartbeat_seconds', 'must be 0 (15) to 300')]);
    }
    await deps.service.requireFeedReader(caller, agencyId);
    // The client may have gone while it was being checked: then it holds no place.
    if (ended) return;
    release = streams.open(agencyId);
    const from = Number(req.fromSequence);
    const consumer = await jetstream(deps.nc).consumers.get(deps.feeds.stream, {
      filter_subjects: [`${deps.feeds.root}.${agencyId}.>`],
      ...(from > 0
        ? { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: from }
        : { deliver_policy: DeliverPolicy.New }),
    });
    messages = await consumer.consume({ max_messages: 64 });
    if (ended) {
      void messages.close();
      return;
    }
    const stream = new FeedStreamPace(call, {
      ...streams.limits,
      beatMs: (req.heartbeatSeconds || 15) * 1000,
    });
    pace = stream;
    call.on('drain', () => stream.drained());
    heartbeat = setInterval(() => {
      const limit = stream.tick();
      if (limit) end(limit);
    }, stream.tickMs);
    // Every message is checked when it is about to be written, not when it was published: a
    // replay from an old sequence leaves out what the agency may no longer read.
    const access = deps.feedAccess();
    for await (const m of messages) {
      const envelope = eventsV1.Envelope.decode(m.data);
      const parsed = parseFeedSubject(deps.feeds.root, m.subject);
      const type = parsed?.type ?? m.headers?.get('Beacon-Event-Type') ?? envelope.type;
      const tlp = parsed?.tlp ?? tlpFromProto(envelope.tlp) ?? 'RED';
      if (!(await access.mayReceive(agencyId, { type, tlp, incidentId: envelope.incidentId }, caller)))
        continue;
      // The stream may have ended (stalled, expired, cancelled) while the check awaited.
      if (stream.ended) return;
      stream.write({
        item: {
          $case: 'event',
          value: {
            sequence: String(m.seq),
            envelope: m.data,
            type,
            incidentId: envelope.incidentId,
            tlp: tlpToProto(tlp),
          },
        },
      });
      // Back-pressure: stop reading the feed until the client has taken what was written.
      if (stream.stalled) {
        await new Promise((resolve) => {
          call.once('drain', resolve);
          call.once('cancelled', resolve);
          call.once('error', resolve);
        });
        if (stream.ended) return;
      }
    }
  } catch (error) {
    end(error);
  }
}
