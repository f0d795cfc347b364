import { tlpFromProto, tlpToProto } from '@beacon/platform';
import { notifyV1 } from '@beacon/proto';
import type { AgencyInput, AgencyKind } from '../domain/agency.js';
import type { SubscriptionInput } from '../domain/subscription.js';
import type { DeliveryRecord, EngagementNotice, StoredAgency } from '../app/ports.js';
import type { Subscription } from '../domain/subscription.js';

const KIND_TO_PROTO: Record<AgencyKind, notifyV1.AgencyKind> = {
  csirt: notifyV1.AgencyKind.AGENCY_KIND_CSIRT,
  'law-enforcement': notifyV1.AgencyKind.AGENCY_KIND_LAW_ENFORCEMENT,
  regulator: notifyV1.AgencyKind.AGENCY_KIND_REGULATOR,
  operator: notifyV1.AgencyKind.AGENCY_KIND_OPERATOR,
  'victim-support': notifyV1.AgencyKind.AGENCY_KIND_VICTIM_SUPPORT,
};
const KIND_FROM_PROTO = new Map(Object.entries(KIND_TO_PROTO).map(([k, v]) => [v, k]));

/** The agency a request describes, as given; `parseAgency` judges it. */
export function agencyInputFromProto(a: notifyV1.Agency | undefined): AgencyInput {
  const webhook = a?.channels?.webhook;
  const email = a?.channels?.email;
  return {
    id: a?.id.trim() ?? '',
    name: a?.name.trim() ?? '',
    kind: KIND_FROM_PROTO.get(a?.kind ?? 0) ?? '',
    jurisdictions: a?.jurisdictions.map((j) => j.trim().toUpperCase()) ?? [],
    sectors: a?.sectors.map((s) => s.trim()) ?? [],
    clearance: tlpFromProto(a?.clearance ?? 0) ?? '',
    contacts: (a?.contacts ?? []).map((c) => ({
      role: c.role,
      name: c.name,
      ...(c.email ? { email: c.email } : {}),
      ...(c.phone ? { phone: c.phone } : {}),
    })),
    channels: {
      ...(webhook?.url
        ? {
            webhook: {
              url: webhook.url,
              secrets: webhook.secrets.map((s) => ({ id: s.id, secret: s.secret })),
            },
          }
        : {}),
      ...(email && email.to.length > 0 ? { email: { to: [...email.to] } } : {}),
    },
    engagedIncidentIds: [],
  };
}

/** Webhook secrets are write-only: their ids come back, never their values. */
export function agencyToProto(a: StoredAgency): notifyV1.Agency {
  return {
    id: a.id,
    name: a.name,
    kind: KIND_TO_PROTO[a.kind],
    jurisdictions: [...a.jurisdictions],
    sectors: [...a.sectors],
    clearance: tlpToProto(a.clearance),
    contacts: a.contacts.map((c) => ({
      role: c.role,
      name: c.name,
      email: c.email ?? '',
      phone: c.phone ?? '',
    })),
    channels: {
      ...(a.channels.webhook
        ? {
            webhook: {
              url: a.channels.webhook.url,
              secrets: a.channels.webhook.secrets.map((s) => ({ id: s.id, secret: '' })),
            },
          }
        : {}),
      ...(a.channels.email ? { email: { to: [...a.channels.email.to] } } : {}),
    },
    version: a.version,
  };
}

export function subscriptionInputFromProto(s: notifyV1.Subscription | undefined): SubscriptionInput {
  return {
    id: s?.id.trim() ?? '',
    agencyId: s?.agencyId.trim() ?? '',
    eventTypes: s?.eventTypes ?? [],
    rsitClasses: s?.rsitClasses ?? [],
    sectors: s?.sectors ?? [],
    jurisdictions: s?.jurisdictions.map((j) => j.trim().toUpperCase()) ?? [],
    minNcissLevel: s?.minNcissLevel ?? 0,
    incidentIds: s?.incidentIds ?? [],
    ...(s?.reach === notifyV1.SubscriptionReach.SUBSCRIPTION_REACH_NAMED ? { reach: 'named' as const } : {}),
  };
}

export function subscriptionToProto(s: Subscription): notifyV1.Subscription {
  return {
    id: s.id,
    agencyId: s.agencyId,
    eventTypes: [...(s.eventTypes ?? [])],
    rsitClasses: [...(s.rsitClasses ?? [])],
    sectors: [...(s.sectors ?? [])],
    jurisdictions: [...(s.jurisdictions ?? [])],
    minNcissLevel: s.minNcissLevel ?? 0,
    incidentIds: [...(s.incidentIds ?? [])],
    reach:
      s.reach === 'named'
        ? notifyV1.SubscriptionReach.SUBSCRIPTION_REACH_NAMED
        : notifyV1.SubscriptionReach.SUBSCRIPTION_REACH_NAMED_AND_REACHED,
  };
}

export function deliveryToProto(d: DeliveryRecord): notifyV1.Delivery {
  return {
    eventId: d.eventId,
    channel: d.channel,
    attempt: d.attempt,
    outcome: d.outcome,
    latencyMs: d.latencyMs,
    detail: d.detail,
    at: d.at,
  };
}

export function engagementNoticeToProto(notice: EngagementNotice): notifyV1.EngagementNotice {
  return {
    id: notice.id,
    incidentId: notice.incidentId,
    agencyId: notice.agencyId,
    regardingAgencyId: notice.regardingAgencyId,
    contactRank: notice.contactRank,
    contact: {
      role: notice.contact.role,
      name: notice.contact.name,
      email: notice.contact.email ?? '',
      phone: notice.contact.phone ?? '',
    },
    round: notice.round,
    ncissLevel: notice.ncissLevel,
    acknowledgeBy: notice.acknowledgeBy,
    sentAt: notice.sentAt,
  };
}
