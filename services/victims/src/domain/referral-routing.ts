import { isWithin, type Jurisdiction } from '@beacon/domain';
import type { NeedKind, SupportOrganisation } from './model.js';

/** An organisation as routing sees it: the registry entry and its free places now. */
export interface RoutableOrganisation extends SupportOrganisation {
  /** Referrals it can still take: capacity minus those it holds. */
  readonly spare: number;
}

export interface RoutingRequest {
  readonly jurisdiction: Jurisdiction;
  /** ISO 639-1. */
  readonly language: string;
  /** The needs to place; each goes to one organisation at most. */
  readonly needs: readonly NeedKind[];
  /** A risk was disclosed: first of all, a crisis-capable organisation. */
  readonly crisis: boolean;
  /** Organisations already holding, or having declined, a referral of this case. */
  readonly exclude: ReadonlySet<string>;
}

export interface RoutingPick {
  readonly organisationId: string;
  readonly needs: readonly NeedKind[];
  readonly crisis: boolean;
  readonly speaksLanguage: boolean;
}

export interface RoutingResult {
  readonly picks: readonly RoutingPick[];
  /** Needs no eligible organisation covers. */
  readonly uncovered: readonly NeedKind[];
  /** A crisis no eligible crisis-capable organisation can take. */
  readonly crisisUnplaced: boolean;
}

/** The most specific of the organisation's jurisdictions that serves the victim's, if any. */
function servingSpecificity(org: SupportOrganisation, jurisdiction: Jurisdiction): number {
  let best = 0;
  for (const j of org.jurisdictions) {
    if (isWithin(jurisdiction, j)) best = Math.max(best, j.length > 2 ? 2 : 1);
  }
  return best;
}

/**
 * Chooses organisations for a case's needs, by rules alone:
 *
 * - eligible: accepting, with a free place, serving the victim's jurisdiction (an organisation
 *   for `DE` serves `DE-BY`), not already involved with the case;
 * - a crisis goes first to the best eligible crisis-capable organisation, which also takes
 *   the needs it covers;
 * - the other needs are placed greedily: each step takes the organisation covering the most
 *   needs still open, then one speaking the victim's language, then the more specific
 *   jurisdiction (a regional service before a national one), then the larger share of free
 *   places, then the id, so the choice is the same every time;
 * - a need nobody eligible covers is reported, not forced on anyone.
 */
export function routeReferrals(
  request: RoutingRequest,
  organisations: readonly RoutableOrganisation[],
): RoutingResult {
  const candidates = organisations
    .filter((o) => o.accepting && o.spare > 0 && !request.exclude.has(o.id))
    .map((o) => ({
      org: o,
      specificity: servingSpecificity(o, request.jurisdiction),
      speaks: o.languages.includes(request.language),
      freeShare: o.capacity > 0 ? o.spare / o.capacity : 0,
    }))
    .filter((c) => c.specificity > 0);
  type Candidate = (typeof candidates)[number];
  const open = new Set(request.needs);
  const picks: RoutingPick[] = [];
  const covers = (c: Candidate) => c.org.needsCovered.filter((n) => open.has(n));
  const better = (a: Candidate, b: Candidate, coverA: number, coverB: number) =>
    coverA !== coverB
      ? coverA > coverB
      : a.speaks !== b.speaks
        ? a.speaks
        : a.specificity !== b.specificity
          ? a.specificity > b.specificity
          : a.freeShare !== b.freeShare
            ? a.freeShare > b.freeShare
            : a.org.id < b.org.id;

  let crisisUnplaced = false;
  const used = new Set<string>();
  if (request.crisis) {
    let best: Candidate | undefined;
    for (const c of candidates) {
      if (!c.org.crisisCapable) continue;
      // For a crisis the language and availability come before how many other needs fit.
      if (!best || better(c, best, 0, 0)) best = c;
    }
    if (best) {
      const needs = covers(best);
      for (const n of needs) open.delete(n);
      picks.push({ organisationId: best.org.id, needs, crisis: true, speaksLanguage: best.speaks });
      used.add(best.org.id);
    } else {
      crisisUnplaced = true;
    }
  }
  while (open.size > 0) {
    let best: Candidate | undefined;
    let bestCover = 0;
    for (const c of candidates) {
      if (used.has(c.org.id)) continue;
      const cover = covers(c).length;
      if (cover === 0) continue;
      if (!best || better(c, best, cover, bestCover)) {
        best = c;
        bestCover = cover;
      }
    }
    if (!best) break;
    const needs = covers(best);
    for (const n of needs) open.delete(n);
    picks.push({ organisationId: best.org.id, needs, crisis: false, speaksLanguage: best.speaks });
    used.add(best.org.id);
  }
  return {
    picks,
    uncovered: request.needs.filter((n) => open.has(n)),
    crisisUnplaced,
  };
}
