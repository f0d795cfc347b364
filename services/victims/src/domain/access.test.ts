import { PROCESS_SCOPES, type BeaconProcess } from '@beacon/domain';
import { describe, expect, it } from 'vitest';
import {
  caseListView,
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
/** A Beacon process's identity, with the scopes its job is issued. */
const process = (name: BeaconProcess): Caller => ({
  subject: name,
  roles: ['service'],
  agencyId: undefined,
  clearance: 'RED',
  scopes: PROCESS_SCOPES[name],
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
      [process('workflows'), 'refuse'],
    ] as const;
    for (const [who, decision] of matrix)
      expect([who.subject, caseWorkAccess(who, facts)]).toEqual([who.subject, decision]);
    // A case that does not exist answers exactly like another organisation's.
    expect(caseWorkAccess(caller(['victim_officer'], 'vs-bayern'), undefined)).toBe('hidden');
    expect(caseWorkAccess(caller(['coordinator']), undefined)).toBe('refuse');
  });

  it('leaves closing and erasure to the owner, and follow-up also to the response worker', () => {
    expect(caseOwnerAccess(caller(['victim_officer'], 'vs-bayern'), facts)).toBe('allow');
    expect(caseOwnerAccess(caller(['victim_officer'], 'crisis-line'), facts)).toBe('refuse');
    expect(caseOwnerAccess(caller(['victim_officer'], 'vs-hessen'), facts)).toBe('hidden');
    expect(followUpAccess(process('workflows'), facts)).toBe('allow');
    expect(followUpAccess(process('workflows'), undefined)).toBe('allow');
    // The role alone, or another process's scopes, reach no case.
    expect(followUpAccess(caller(['service']), facts)).toBe('refuse');
    expect(followUpAccess(process('impact'), facts)).toBe('refuse');
    expect(followUpAccess(caller(['coordinator']), facts)).toBe('refuse');
    expect(followUpAccess(caller(['victim_officer'], 'vs-hessen'), facts)).toBe('hidden');
  });

  it('scopes statistics: everything for coordinators and auditors, the own organisation for officers', () => {
    expect(statsScope(caller(['coordinator']))).toEqual({ kind: 'all' });
    expect(statsScope(caller(['auditor']))).toEqual({ kind: 'all' });
    expect(statsScope(caller(['victim_officer'], 'vs-bayern'))).toEqual({
      kind: 'organisation',
      orgId: 'vs-bayern',
    });
    expect(statsScope(caller(['agency_analyst'], 'vs-bayern'))).toBeUndefined();
    expect(statsScope(process('workflows'))).toBeUndefined();
  });

  it('keeps the registry with coordinators and each organisation’s admins, key rotation with its job', () => {
    expect(canOpenCase(caller(['victim_officer'], 'vs-bayern'))).toBe(true);
    expect(canOpenCase(caller(['coordinator']))).toBe(false);
    expect(canRegisterOrganisation(caller(['coordinator']))).toBe(true);
    expect(canRegisterOrganisation(caller(['agency_admin'], 'vs-bayern'))).toBe(false);
    expect(canUpdateOrganisation(caller(['agency_admin'], 'vs-bayern'), 'vs-bayern')).toBe(true);
    expect(canUpdateOrganisation(caller(['agency_admin'], 'vs-bayern'), 'crisis-line')).toBe(false);
    expect(canUpdateOrganisation(caller(['victim_officer'], 'vs-bayern'), 'vs-bayern')).toBe(false);
    expect(canRewrapKeys(process('key-rotation'))).toBe(true);
    expect(canRewrapKeys(process('workflows'))).toBe(false);
    expect(canRewrapKeys(caller(['coordinator']))).toBe(false);
  });
});

describe('listing cases', () => {
  it('gives officers their organisation’s cases, the response worker one incident’s, and nobody else any', () => {
    expect(caseListScope(caller(['victim_officer'], 'vs-bayern'), 'inc_1')).toEqual({ org: 'vs-bayern' });
    expect(caseListScope(process('workflows'), 'inc_1')).toEqual({ incident: 'inc_1' });
    // The worker lists by incident only: never every case of every organisation.
    expect(caseListScope(process('workflows'), undefined)).toBeUndefined();
    expect(caseListScope(process('impact'), 'inc_1')).toBeUndefined();
    expect(caseListScope(caller(['coordinator']), 'inc_1')).toBeUndefined();
    expect(caseListScope(caller(['agency_analyst'], 'cert-de'), 'inc_1')).toBeUndefined();
  });

  it('shows the response worker the follow-up view of a case, an officer its summary', () => {
    expect(caseListView(process('workflows'))).toBe('follow-up');
    expect(caseListView(caller(['victim_officer'], 'vs-bayern'))).toBe('summary');
  });
});
