import { caseListScope, caseWorkAccess, officerOrganisation, type Caller } from '../domain/access.js';
import { requireConsent } from '../domain/consent.js';
import type { CaseStatus } from '../domain/model.js';
import { statusOf, type CaseState } from '../domain/victim-case.js';
import {
  CASE_WORK_ONLY,
  loadCase,
  readPersonal,
  recordAudit,
  refuse,
  type VictimsDeps,
} from './case-work.js';
import { VictimsError } from './errors.js';
import type { PersonalData } from './personal-data.js';
import type { CaseListFilter, Page } from './ports.js';

/** The whole case, personal data included; the read is audited before anything is opened. */
export async function getCase(
  deps: VictimsDeps,
  caller: Caller,
  caseId: string,
): Promise<{ state: CaseState; personal: PersonalData }> {
  const stored = await loadCase(deps, caller, caseId, caseWorkAccess, CASE_WORK_ONLY);
  const personal = await readPersonal(deps, caller, stored, 'read-personal-data', '');
  return { state: stored.state, personal };
}

/** Cases in the caller's scope, without personal data; a page at a time. */
export function listCases(
  deps: VictimsDeps,
  caller: Caller,
  filter: CaseListFilter,
  after: string | undefined,
  limit: number,
): Promise<Page<CaseState>> {
  const scope = caseListScope(caller, filter.incidentId);
  if (!scope) throw refuse(CASE_WORK_ONLY);
  return deps.cases.list(scope, filter, after, limit);
}

/** The organisation's cases of a victim, found by keyed hash; the search itself is audited. */
export async function findCases(
  deps: VictimsDeps,
  caller: Caller,
  by: { readonly email: string } | { readonly phone: string },
): Promise<CaseState[]> {
  const org = officerOrganisation(caller);
  if (!org) throw refuse(CASE_WORK_ONLY);
  const found =
    'email' in by
      ? await deps.cases.findByHash(org, 'email', deps.hasher.email(by.email))
      : await deps.cases.findByHash(org, 'phone', deps.hasher.phone(by.phone));
  await recordAudit(
    deps,
    caller,
    'search',
    found.map((s) => s.id),
    'email' in by ? 'by e-mail address' : 'by phone number',
  );
  return found;
}

/** The victim's details for a law-enforcement agency: only with their consent; audited. */
export async function discloseToLawEnforcement(
  deps: VictimsDeps,
  caller: Caller,
  caseId: string,
  recipient: { readonly agencyId: string; readonly legalReference: string },
): Promise<{ state: CaseState; personal: PersonalData; at: Date }> {
  const stored = await loadCase(deps, caller, caseId, caseWorkAccess, CASE_WORK_ONLY);
  requireConsent(stored.state.consents, 'share-law-enforcement');
  const personal = await readPersonal(
    deps,
    caller,
    stored,
    'disclose-law-enforcement',
    `to ${recipient.agencyId}${recipient.legalReference ? ` (${recipient.legalReference})` : ''}`,
  );
  return { state: stored.state, personal, at: deps.clock.now() };
}

/** The status for whoever holds the victim's reference: nothing else. */
export async function lookupStatus(deps: VictimsDeps, reference: string): Promise<CaseStatus> {
  const stored = await deps.cases.get(deps.hasher.caseIdOf(reference));
  if (!stored) throw new VictimsError('not-found', 'no case has this reference');
  return statusOf(stored.state);
}
