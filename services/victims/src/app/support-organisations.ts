import { mayChangeOrganisationField } from '@beacon/domain';
import {
  canListOrganisations,
  canRegisterOrganisation,
  canUpdateOrganisation,
  type Caller,
} from '../domain/access.js';
import type { SupportOrganisation } from '../domain/model.js';
import { refuse, type VictimsDeps } from './case-work.js';
import type { StoredOrganisation } from './ports.js';

const snakeCase = (field: string) => field.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

/** Every field but the id, so that a field added to the record cannot escape the comparison. */
const ORGANISATION_FIELDS: Record<Exclude<keyof SupportOrganisation, 'id'>, true> = {
  name: true,
  jurisdictions: true,
  languages: true,
  needsCovered: true,
  crisisCapable: true,
  capacity: true,
  accepting: true,
};

/** The fields of a support organisation's record a replacement changes; lists compared as sets. */
function changedOrganisationFields(before: SupportOrganisation, after: SupportOrganisation): string[] {
  const sameSet = (a: readonly string[], b: readonly string[]) =>
    new Set(a).size === new Set(b).size && a.every((x) => b.includes(x));
  return (Object.keys(ORGANISATION_FIELDS) as (keyof typeof ORGANISATION_FIELDS)[]).filter((field) => {
    const [a, b] = [before[field], after[field]];
    return Array.isArray(a) && Array.isArray(b) ? !sameSet(a, b) : a !== b;
  });
}

/**
 * Registers an organisation (version 0) or replaces its record; vetting fields are the
 * coordination centre's to change, per the domain policy.
 */
export async function putOrganisation(
  deps: VictimsDeps,
  caller: Caller,
  org: SupportOrganisation,
  expectedVersion: number,
): Promise<StoredOrganisation> {
  if (expectedVersion === 0) {
    if (!canRegisterOrganisation(caller))
      throw refuse('support organisations are registered by coordinators');
    return deps.organisations.create(org);
  }
  if (!canUpdateOrganisation(caller, org.id)) {
    throw refuse('an organisation is updated by coordinators or its own admins');
  }
  // Judged against the version being replaced; if another change came first, the store's
  // version check refuses the write anyway.
  const current = await deps.organisations.get(org.id);
  if (current && current.version === expectedVersion) {
    const refused = changedOrganisationFields(current, org).filter(
      (field) => !mayChangeOrganisationField(caller, org.id, field),
    );
    if (refused.length > 0) {
      throw refuse(
        `${refused.map((f) => `organisation.${snakeCase(f)}`).join(', ')}: vetting, set by the coordination centre; an organisation's admins change its languages and whether it is accepting referrals`,
      );
    }
  }
  return deps.organisations.update(org, expectedVersion);
}

/** The registry of support organisations. */
export async function listOrganisations(deps: VictimsDeps, caller: Caller): Promise<StoredOrganisation[]> {
  if (!canListOrganisations(caller))
    throw refuse('the registry is for coordinators, officers, admins and services');
  return deps.organisations.list();
}
