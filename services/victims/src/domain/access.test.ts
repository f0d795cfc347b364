import { describe, expect, it } from 'vitest';
import {
  canOpenCase,
  canRegisterOrganisation,
  canRewrapKeys,
  canUpdateOrganisation,
  caseListScope,
  caseOwnerAccess,
  caseWorkAccess,
  followUpAccess,
  statsScope,
  type Caller,
} from './access.js';

const caller = (roles: string[], agencyId?: string): Caller => ({
  subject: `${agencyId ?? 'x'}-${roles.join('+')}`,
  roles,
  agencyId,
  clearance: 'RED',
});
const facts = { ownerOrgId: 'vs-bayern', assignedOrgIds: ['vs-bayern', 'crisis-line'] };

describe('access to victim cases', () => {
  it('lets only victim officers of an assigned organisation work on a case, hiding it from other organisations', () => {
    const matrix = [
      [caller(['victim_officer'], 'vs-bayern'), 'allow'],
      [caller(['victim_officer'], 'crisis-line'), 'allow'],
      [caller(['victim_officer'], 'vs-hessen'), 'hidden'],
      [caller(['agency_analyst', 'agency_admin'], 'vs-bayern'), 'refuse'],
      [caller(['coordinator']), 'refuse'],
      [caller(['auditor']), 'refuse'],
      [caller(['service']), 'refuse'],
    ] as const;
    for (const [who, decision] of matrix)
      expect([who.subject, caseWorkAccess(who, facts)]).toEqual([who.subject, decision]);
    // A case that does not exist answers exactly like another organisation's.
    expect(caseWorkAccess(caller(['victim_officer'], 'vs-bayern'), undefined)).toBe('hidden');
    expect(caseWorkAccess(caller(['coordinator']), undefined)).toBe('refuse');
  });

  it('leaves closing and erasure to the owner, and follow-up also to Beacon services', () => {
    expect(caseOwnerAccess(caller(['victim_officer'], 'vs-bayern'), facts)).toBe('allow');
    expect(caseOwnerAccess(caller(['victim_officer'], 'crisis-line'), facts)).toBe('refuse');
    expect(caseOwnerAccess(caller(['victim_officer'], 'vs-hessen'), facts)).toBe('hidden');
    expect(followUpAccess(caller(['service']), facts)).toBe('allow');
    expect(followUpAccess(caller(['service']), undefined)).toBe('allow');
    expect(followUpAccess(caller(['coordinator']), facts)).toBe('refuse');
    expect(followUpAccess(caller(['victim_officer'], 'vs-hessen'), facts)).toBe('hidden');
  });

  it('scopes statistics: everything for coordinators, auditors and services, the own organisation for officers', () => {
    expect(statsScope(caller(['coordinator']))).toEqual({ kind: 'all' });
    expect(statsScope(caller(['auditor']))).toEqual({ kind: 'all' });
    expect(statsScope(caller(['victim_officer'], 'vs-bayern'))).toEqual({
      kind: 'organisation',
      orgId: 'vs-bayern',
    });
    expect(statsScope(caller(['agency_analyst'], 'vs-bayern'))).toBeUndefined();
  });

  it('keeps the registry with coordinators and each organisation’s admins, key rotation with services', () => {
    expect(canOpenCase(caller(['victim_officer'], 'vs-bayern'))).toBe(true);
    expect(canOpenCase(caller(['coordinator']))).toBe(false);
    expect(canRegisterOrganisation(caller(['coordinator']))).toBe(true);
    expect(canRegisterOrganisation(caller(['agency_admin'], 'vs-bayern'))).toBe(false);
    expect(canUpdateOrganisation(caller(['agency_admin'], 'vs-bayern'), 'vs-bayern')).toBe(true);
    expect(canUpdateOrganisation(caller(['agency_admin'], 'vs-bayern'), 'crisis-line')).toBe(false);
    expect(canUpdateOrganisation(caller(['victim_officer'], 'vs-bayern'), 'vs-bayern')).toBe(false);
    expect(canRewrapKeys(caller(['service']))).toBe(true);
    expect(canRewrapKeys(caller(['coordinator']))).toBe(false);
  });
});

describe('listing cases', () => {
  it('gives officers their organisation’s cases, a Beacon service one incident’s, and nobody else any', () => {
    expect(caseListScope(caller(['victim_officer'], 'vs-bayern'), 'inc_1')).toEqual({ org: 'vs-bayern' });
    expect(caseListScope(caller(['service']), 'inc_1')).toEqual({ incident: 'inc_1' });
    // A service lists by incident only: never every case of every organisation.
    expect(caseListScope(caller(['service']), undefined)).toBeUndefined();
    expect(caseListScope(caller(['coordinator']), 'inc_1')).toBeUndefined();
    expect(caseListScope(caller(['agency_analyst'], 'cert-de'), 'inc_1')).toBeUndefined();
  });
});
