import {
  isCommunityLabel,
  mostRestrictive,
  type Recipients,
  type Tlp,
  TLP_LEVELS,
  withinClearance,
} from '@beacon/domain';
import type { Agency } from './agency.js';
import { type MatchDecision, tlpDecision } from './matching.js';

/** An incident as notify knows it now, from intake's latest event about it. */
export interface IncidentView {
  readonly tlp: Tlp;
  readonly sourceAgencyId?: string | undefined;
  readonly engagedAgencyIds: readonly string[];
}

/** A message of an agency's feed: what its subject and envelope say. */
export interface FeedItem {
  /** `domain.event`. */
  readonly type: string;
  /** The label it was published under. */
  readonly tlp: Tlp;
  readonly incidentId: string;
}

/**
 * Notify's own notices (an engagement request, an access withdrawal) name an incident by id
 * and nothing of its content: they keep their own label. Every other event carries its
 * incident, so it is read under the incident's label as it is now, should that have risen.
 */
const isNotice = (type: string) => type.startsWith('notify.');

/**
 * Whether an agency may read a message of its feed now: the one reading rule, asked again at
 * the moment the message would be handed over (replayed, streamed, pushed), with the agency's
 * clearance and the incident's label, source and engagements as they are now — not as they
 * were when the message was published. An incident notify knows nothing of names nobody.
 */
export function feedItemDecision(
  agency: Pick<Agency, 'id' | 'clearance'>,
  item: FeedItem,
  incident: IncidentView | undefined,
): MatchDecision {
  return tlpDecision(agency, { type: item.type, ...feedItemRecipients(item, incident) });
}

/** Whom a feed message is shared with now: its label (raised to its incident's) and recipients. */
export function feedItemRecipients(item: FeedItem, incident: IncidentView | undefined): Recipients {
  return {
    tlp: isNotice(item.type) || !incident ? item.tlp : mostRestrictive(item.tlp, incident.tlp),
    sourceAgencyId: incident?.sourceAgencyId,
    engagedAgencyIds: incident?.engagedAgencyIds ?? [],
  };
}

/**
 * The labels above GREEN under which an agency may no longer receive an incident's messages:
 * the copies its feed retains under these labels are withdrawn. CLEAR and GREEN copies stay
 * (the community reads them) unless above the agency's clearance.
 */
export function withdrawnLabels(agency: Pick<Agency, 'id' | 'clearance'>, incident: IncidentView): Tlp[] {
  return TLP_LEVELS.filter(
    (tlp) =>
      !tlpDecision(agency, {
        type: 'incident.withdrawal',
        tlp: mostRestrictive(tlp, incident.tlp),
        sourceAgencyId: incident.sourceAgencyId,
        engagedAgencyIds: incident.engagedAgencyIds,
      }).deliver &&
      (!isCommunityLabel(tlp) || !withinClearance(agency, tlp)),
  );
}

/** The labels above an agency's clearance: every copy under them is withdrawn when it drops. */
export function labelsAbove(clearance: Tlp): Tlp[] {
  return TLP_LEVELS.filter((tlp) => !withinClearance({ clearance }, tlp));
}
