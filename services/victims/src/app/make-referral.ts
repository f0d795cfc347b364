import { caseWorkAccess, type Caller } from '../domain/access.js';
import { requireConsent } from '../domain/consent.js';
import type { NeedKind } from '../domain/model.js';
import { routeReferrals, type RoutingPick } from '../domain/referral-routing.js';
import {
  addReferrals,
  involvedOrganisations,
  unmetNeeds,
  type CaseState,
  type NewReferral,
} from '../domain/victim-case.js';
import {
  CASE_WORK_ONLY,
  changeCase,
  hasCrisisReferral,
  loadCase,
  MAX_RESERVE_ATTEMPTS,
  type VictimsDeps,
} from './case-work.js';
import { VictimsError } from './errors.js';

/** What the rules would choose for the case's unmet needs; changes nothing. */
export async function suggestReferrals(
  deps: VictimsDeps,
  caller: Caller,
  caseId: string,
): Promise<{ picks: (RoutingPick & { name: string })[]; uncovered: NeedKind[] }> {
  const stored = await loadCase(deps, caller, caseId, caseWorkAccess, CASE_WORK_ONLY);
  const orgs = await deps.organisations.list();
  const state = stored.state;
  const result = routeReferrals(
    {
      jurisdiction: state.jurisdiction,
      language: state.language,
      needs: unmetNeeds(state),
      crisis: state.assessment.crisis && !hasCrisisReferral(state),
      exclude: involvedOrganisations(state),
    },
    orgs,
  );
  const names = new Map(orgs.map((o) => [o.id, o.name]));
  return {
    picks: result.picks.map((p) => ({ ...p, name: names.get(p.organisationId) ?? p.organisationId })),
    uncovered: [...result.uncovered],
  };
}

/**
 * Refers the case to one organisation, or to those the rules choose for the given needs (by
 * default every unmet one). Never without consent to share with support organisations.
 */
export async function makeReferral(
  deps: VictimsDeps,
  caller: Caller,
  caseId: string,
  request: { readonly organisationId?: string; readonly needs: readonly NeedKind[] },
): Promise<{ state: CaseState; made: string[]; uncovered: NeedKind[] }> {
  let made: string[] = [];
  let uncovered: NeedKind[] = [];
  const stored = await changeCase(
    deps,
    caller,
    caseId,
    {
      access: caseWorkAccess,
      action: 'refer',
      detail: request.organisationId ? `to ${request.organisationId}` : 'by the routing rules',
    },
    async (current, now, reserved) => {
      const state = current.state;
      requireConsent(state.consents, 'share-support');
      const kinds = new Set(state.assessment.needs.map((n) => n.kind));
      const missing = request.needs.filter((n) => !kinds.has(n));
      if (missing.length > 0) {
        throw new VictimsError('failed-precondition', `the case has no ${missing.join(', ')} need`);
      }
      const needs = request.needs.length > 0 ? [...request.needs] : unmetNeeds(state);
      const referrals: NewReferral[] = [];
      if (request.organisationId) {
        const org = await deps.organisations.get(request.organisationId);
        if (!org) throw new VictimsError('not-found', `no support organisation ${request.organisationId}`);
        if (involvedOrganisations(state).has(org.id)) {
          throw new VictimsError(
            'already-exists',
            `${org.id} already holds or declined a referral of this case`,
          );
        }
        // Needs named: the organisation must cover each. None named: those unmet it covers.
        const outside = needs.filter((n) => !org.needsCovered.includes(n));
        if (request.needs.length > 0 && outside.length > 0) {
          throw new VictimsError('failed-precondition', `${org.id} does not cover ${outside.join(', ')}`);
        }
        const covered = needs.filter((n) => org.needsCovered.includes(n));
        if (covered.length === 0 && !(org.crisisCapable && state.assessment.crisis)) {
          throw new VictimsError('failed-precondition', `${org.id} covers none of the case’s unmet needs`);
        }
        if (!(await deps.organisations.reserve(org.id))) {
          throw new VictimsError(
            'resource-exhausted',
            `${org.id} takes no referrals now (full or not accepting)`,
          );
        }
        reserved.push(org.id);
        referrals.push({
          organisationId: org.id,
          needs: covered,
          crisis: org.crisisCapable && state.assessment.crisis && !hasCrisisReferral(state),
          state: 'offered',
        });
        uncovered = [];
      } else {
        const placed = await route(deps, state, needs, false, reserved);
        referrals.push(...placed.referrals);
        uncovered = placed.uncovered;
      }
      if (referrals.length === 0) {
        made = [];
        return 'unchanged';
      }
      const change = addReferrals(state, referrals, now);
      made = change.state.referrals.slice(state.referrals.length).map((r) => r.id);
      return { next: { ...current, state: change.state }, change };
    },
  );
  return { state: stored.state, made, uncovered };
}

/** Routes needs to organisations, taking a place at each (re-routing around full ones). */
async function route(
  deps: VictimsDeps,
  state: CaseState,
  needs: readonly NeedKind[],
  crisis: boolean,
  reserved: string[],
): Promise<{ referrals: NewReferral[]; uncovered: NeedKind[] }> {
  const orgs = await deps.organisations.list();
  const exclude = involvedOrganisations(state);
  const referrals: NewReferral[] = [];
  let open = [...needs];
  for (let attempt = 0; attempt < MAX_RESERVE_ATTEMPTS && open.length > 0; attempt++) {
    const result = routeReferrals(
      { jurisdiction: state.jurisdiction, language: state.language, needs: open, crisis, exclude },
      orgs,
    );
    let full = false;
    for (const pick of result.picks) {
      if (await deps.organisations.reserve(pick.organisationId)) {
        reserved.push(pick.organisationId);
        referrals.push({
          organisationId: pick.organisationId,
          needs: pick.needs,
          crisis: pick.crisis,
          state: 'offered',
        });
        open = open.filter((n) => !pick.needs.includes(n));
      } else {
        full = true;
      }
      exclude.add(pick.organisationId);
    }
    if (!full) break;
  }
  return { referrals, uncovered: open };
}
