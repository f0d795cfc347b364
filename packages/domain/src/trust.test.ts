import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { hasScope, PROCESS_SCOPES, SERVICE_SCOPES, type BeaconProcess } from './service-scopes.js';
import { compareTlp, TLP_LEVELS, type Tlp } from './tlp.js';
import {
  agencyMayReceive,
  disclosureThreshold,
  inScope,
  isVettingField,
  mayChangeOrganisationField,
  mayEditOrganisation,
  mayAcknowledge,
  mayAcknowledgeFor,
  mayCommand,
  mayIssueCommands,
  mayJoin,
  mayMerge,
  mayIssueMerges,
  mayListEngagementsOf,
  mayReadResponse,
  mayReadResponses,
  agenciesLosingAccess,
  mayRead,
  mayReadRelation,
  mayRecordCascade,
  mayVerifyAudit,
  partitionByClearance,
  PRINCIPAL_ROLES,
  readScope,
  releaseCount,
  releasePartition,
  reportRevisesIncident,
  VETTING_FIELDS,
  type Principal,
  type Recipients,
} from './trust.js';

const AGENCIES = ['cert-a', 'police-b', 'water-c', 'support-d'] as const;
const tlp = fc.constantFrom(...TLP_LEVELS);
const agency = fc.constantFrom(...AGENCIES);
const COMMANDS = ['open', 'revise', 'transition', 'severity', 'engage', 'respond'] as const;
const principal: fc.Arbitrary<Principal> = fc.record({
  subject: fc.constant('someone'),
  roles: fc.subarray([...PRINCIPAL_ROLES], { minLength: 1 }),
  agencyId: fc.option(agency, { nil: undefined }),
  clearance: tlp,
  scopes: fc.subarray(Object.keys(SERVICE_SCOPES)),
});
const incident: fc.Arbitrary<Recipients> = fc.record({
  tlp,
  sourceAgencyId: fc.option(agency, { nil: undefined }),
  engagedAgencyIds: fc.uniqueArray(agency),
});
const above = (a: Tlp, b: Tlp) => compareTlp(a, b) > 0;

const person = (roles: string[], clearance: Tlp, agencyId?: string): Principal => ({
  subject: 'p',
  roles,
  agencyId,
  clearance,
});
const process = (name: BeaconProcess, clearance: Tlp = 'RED'): Principal => ({
  subject: name,
  roles: ['service'],
  agencyId: undefined,
  clearance,
  scopes: PROCESS_SCOPES[name],
});

describe('the reading rule', () => {
  it('never lets any role read above its clearance', () => {
    fc.assert(
      fc.property(principal, incident, (caller, object) => {
        if (above(object.tlp, caller.clearance)) expect(mayRead(caller, object)).toBe(false);
      }),
    );
  });

  it('is monotone in clearance: more clearance never reads less', () => {
    fc.assert(
      fc.property(principal, incident, tlp, (caller, object, higher) => {
        if (compareTlp(higher, caller.clearance) < 0) return;
        if (mayRead(caller, object)) expect(mayRead({ ...caller, clearance: higher }, object)).toBe(true);
      }),
    );
  });

  it('lets an agency read above GREEN only while it is the source or engaged', () => {
    fc.assert(
      fc.property(principal, incident, (caller, object) => {
        if (caller.roles.some((r) => ['coordinator', 'auditor'].includes(r))) return;
        if (caller.roles.includes('service') && caller.scopes?.includes('incidents:read')) return;
        const named =
          caller.agencyId !== undefined &&
          (object.sourceAgencyId === caller.agencyId || object.engagedAgencyIds.includes(caller.agencyId));
        if (above(object.tlp, 'GREEN') && !named) expect(mayRead(caller, object)).toBe(false);
      }),
    );
  });

  it('takes away what a removal or a clearance drop took away, and nothing below GREEN', () => {
    fc.assert(
      fc.property(agency, tlp, incident, (id, clearance, object) => {
        const engaged = { ...object, sourceAgencyId: undefined, engagedAgencyIds: [id] };
        const removed = { ...engaged, engagedAgencyIds: [] };
        const analyst = person(['agency_analyst'], clearance, id);
        expect(mayRead(analyst, removed)).toBe(!above(object.tlp, 'GREEN') && !above(object.tlp, clearance));
        expect(mayRead({ ...analyst, clearance: 'CLEAR' }, engaged)).toBe(object.tlp === 'CLEAR');
      }),
    );
  });

  it('bounds coordinators, auditors and services by their clearance, and serves them within it', () => {
    for (const caller of [
      person(['coordinator'], 'AMBER'),
      person(['auditor'], 'AMBER'),
      process('workflows', 'AMBER'),
    ]) {
      expect(mayRead(caller, { tlp: 'RED', engagedAgencyIds: [] })).toBe(false);
      expect(mayRead(caller, { tlp: 'AMBER+STRICT', engagedAgencyIds: [] })).toBe(false);
      expect(mayRead(caller, { tlp: 'AMBER', engagedAgencyIds: [] })).toBe(true);
    }
  });

  it('answers a scope query exactly as it answers one object', () => {
    fc.assert(
      fc.property(principal, incident, (caller, object) => {
        expect(inScope(readScope(caller), object)).toBe(mayRead(caller, object));
      }),
    );
  });

  it('gives pushed data to an agency exactly what the agency could read', () => {
    fc.assert(
      fc.property(agency, tlp, incident, (id, clearance, object) => {
        expect(agencyMayReceive({ id, clearance }, object)).toBe(
          mayRead(person(['agency_analyst'], clearance, id), object),
        );
      }),
    );
  });
});

describe('changing incidents', () => {
  it('never lets a report join an incident its reporter cannot read', () => {
    fc.assert(
      fc.property(principal, tlp, incident, (reporter, label, object) => {
        if (!mayRead(reporter, object)) expect(mayJoin(reporter, label, object)).toBe(false);
      }),
    );
  });

  it('never lets a joining report make the incident more restrictive', () => {
    fc.assert(
      fc.property(principal, tlp, incident, (reporter, label, object) => {
        if (above(label, object.tlp)) expect(mayJoin(reporter, label, object)).toBe(false);
      }),
    );
  });

  it('joins a GREEN report to a GREEN incident the reporter reads, and a RED one to no unseen incident', () => {
    const analyst = person(['agency_analyst'], 'RED', 'police-b');
    const green = { tlp: 'GREEN' as const, sourceAgencyId: 'cert-a', engagedAgencyIds: [] };
    expect(mayJoin(analyst, 'GREEN', green)).toBe(true);
    expect(mayJoin(analyst, 'RED', green)).toBe(false);
    expect(mayJoin(analyst, 'GREEN', { ...green, tlp: 'AMBER' })).toBe(false);
    expect(mayJoin(analyst, 'GREEN', { ...green, tlp: 'AMBER', engagedAgencyIds: ['police-b'] })).toBe(true);
  });

  it('lets only the source agency’s own report revise the incident', () => {
    const object = { tlp: 'GREEN' as const, sourceAgencyId: 'cert-a', engagedAgencyIds: ['police-b'] };
    expect(reportRevisesIncident(person(['agency_analyst'], 'RED', 'cert-a'), object)).toBe(true);
    expect(reportRevisesIncident(person(['agency_analyst'], 'RED', 'police-b'), object)).toBe(false);
    expect(reportRevisesIncident(person(['coordinator'], 'RED'), object)).toBe(false);
  });

  it('records a severity change as the cascade’s only from a process that may change severity', () => {
    expect(mayRecordCascade(process('impact'))).toBe(true);
    expect(mayRecordCascade(process('workflows'))).toBe(true);
    expect(mayRecordCascade(process('key-rotation'))).toBe(false);
    const coordinator = { ...person(['coordinator'], 'RED'), scopes: ['incidents:severity'] };
    expect(mayRecordCascade(coordinator)).toBe(false);
    expect(mayRecordCascade(person(['agency_analyst'], 'RED', 'cert-a'))).toBe(false);
  });

  it('lets coordinators command and merge only what they read', () => {
    fc.assert(
      fc.property(principal, incident, incident, (caller, a, b) => {
        if (mayMerge(caller, a, b)) expect(mayRead(caller, a) && mayRead(caller, b)).toBe(true);
        for (const c of COMMANDS) {
          if (mayCommand(caller, a, c)) expect(mayRead(caller, a) && mayIssueCommands(caller, c)).toBe(true);
          // A caller that may issue the command is refused an incident only by what it may read.
          if (mayIssueCommands(caller, c) && mayRead(caller, a)) expect(mayCommand(caller, a, c)).toBe(true);
        }
      }),
    );
    const coordinator = person(['coordinator'], 'RED');
    expect(
      mayMerge(coordinator, { tlp: 'RED', engagedAgencyIds: [] }, { tlp: 'GREEN', engagedAgencyIds: [] }),
    ).toBe(true);
    expect(
      mayMerge(
        person(['agency_admin'], 'RED', 'cert-a'),
        { tlp: 'GREEN', engagedAgencyIds: [] },
        { tlp: 'GREEN', engagedAgencyIds: [] },
      ),
    ).toBe(false);
  });

  it('lets coordinators issue every command, a service the ones its scopes name, and nobody else any', () => {
    for (const c of COMMANDS) {
      expect(mayIssueCommands(person(['coordinator'], 'CLEAR'), c)).toBe(true);
      expect(mayIssueCommands(person(['auditor'], 'RED'), c)).toBe(false);
      expect(mayIssueCommands(person(['agency_admin'], 'RED', 'cert-a'), c)).toBe(false);
      // The role alone grants a Beacon process nothing.
      expect(mayIssueCommands(person(['service'], 'RED'), c)).toBe(false);
    }
    const worker = process('workflows');
    expect(COMMANDS.filter((c) => mayIssueCommands(worker, c))).toEqual(['transition', 'severity', 'engage']);
    expect(COMMANDS.filter((c) => mayIssueCommands(process('impact'), c))).toEqual(['severity']);
    expect(COMMANDS.filter((c) => mayIssueCommands(process('key-rotation'), c))).toEqual([]);
  });

  it('lets auditors and coordinators verify the audit', () => {
    expect(mayVerifyAudit(person(['auditor'], 'CLEAR'))).toBe(true);
    expect(mayVerifyAudit(person(['coordinator'], 'CLEAR'))).toBe(true);
    expect(mayVerifyAudit(person(['service'], 'RED'))).toBe(false);
    expect(mayVerifyAudit(person(['agency_analyst'], 'RED', 'cert-a'))).toBe(false);
  });

  it('lets an agency acknowledge only its own engagement, and only on an incident it reads', () => {
    fc.assert(
      fc.property(principal, agency, incident, (caller, id, object) => {
        if (!mayAcknowledge(caller, id, object)) return;
        expect(mayRead(caller, object)).toBe(true);
        if (!caller.roles.includes('coordinator')) expect(caller.agencyId).toBe(id);
      }),
    );
    const amber = { tlp: 'AMBER' as const, sourceAgencyId: 'cert-a', engagedAgencyIds: ['police-b'] };
    const police = person(['agency_analyst'], 'RED', 'police-b');
    expect(mayAcknowledge(police, 'police-b', amber)).toBe(true);
    expect(mayAcknowledgeFor(police, 'cert-a')).toBe(false);
    // Removed from the incident, or cleared below it, it answers for it no more.
    expect(mayAcknowledge(police, 'police-b', { ...amber, engagedAgencyIds: [] })).toBe(false);
    expect(mayAcknowledge({ ...police, clearance: 'GREEN' }, 'police-b', amber)).toBe(false);
    expect(mayAcknowledge(person(['coordinator'], 'RED'), 'police-b', amber)).toBe(true);
    expect(mayAcknowledge(person(['coordinator'], 'GREEN'), 'police-b', amber)).toBe(false);
    expect(mayAcknowledgeFor(person(['auditor'], 'RED'), 'police-b')).toBe(false);
    expect(mayAcknowledgeFor(person(['victim_officer'], 'RED', 'police-b'), 'police-b')).toBe(false);
  });

  it('shows a response to the centre and to the agencies engaged on it now, never more', () => {
    fc.assert(
      fc.property(principal, incident, (caller, object) => {
        if (!mayReadResponse(caller, object)) return;
        expect(mayRead(caller, object)).toBe(true);
        expect(mayReadResponses(caller)).toBe(true);
        const centre = caller.roles.includes('coordinator') || caller.roles.includes('auditor');
        if (!centre) expect(object.engagedAgencyIds).toContain(caller.agencyId);
      }),
    );
    const amber = { tlp: 'AMBER' as const, sourceAgencyId: 'cert-a', engagedAgencyIds: ['police-b'] };
    const police = person(['agency_analyst'], 'RED', 'police-b');
    expect(mayReadResponse(police, amber)).toBe(true);
    expect(mayReadResponse(person(['agency_admin'], 'AMBER', 'police-b'), amber)).toBe(true);
    // Disengaged, cleared below the label, or merely able to read a GREEN incident: not shown.
    expect(mayReadResponse(police, { ...amber, engagedAgencyIds: [] })).toBe(false);
    expect(mayReadResponse({ ...police, clearance: 'GREEN' }, amber)).toBe(false);
    expect(mayReadResponse(police, { ...amber, tlp: 'GREEN', engagedAgencyIds: ['water-c'] })).toBe(false);
    // The source agency reads the incident, but is not engaged on the response.
    expect(mayReadResponse(person(['agency_analyst'], 'RED', 'cert-a'), amber)).toBe(false);
    expect(mayReadResponse(person(['coordinator'], 'AMBER'), amber)).toBe(true);
    expect(mayReadResponse(person(['auditor'], 'GREEN'), amber)).toBe(false);
    expect(mayReadResponses(person(['victim_officer'], 'RED', 'police-b'))).toBe(false);
    expect(mayReadResponses(process('workflows'))).toBe(false);
  });

  it("lists an agency's engagements to its own people and to the centre only", () => {
    expect(mayListEngagementsOf(person(['agency_analyst'], 'GREEN', 'police-b'), 'police-b')).toBe(true);
    expect(mayListEngagementsOf(person(['agency_admin'], 'RED', 'police-b'), 'police-b')).toBe(true);
    expect(mayListEngagementsOf(person(['agency_analyst'], 'RED', 'police-b'), 'cert-a')).toBe(false);
    expect(mayListEngagementsOf(person(['victim_officer'], 'RED', 'police-b'), 'police-b')).toBe(false);
    expect(mayListEngagementsOf(person(['coordinator'], 'CLEAR'), 'cert-a')).toBe(true);
    expect(mayListEngagementsOf(person(['auditor'], 'RED'), 'cert-a')).toBe(true);
    expect(mayListEngagementsOf(process('workflows'), 'cert-a')).toBe(false);
  });

  it('shows a possible relation only to coordinators cleared for both incidents', () => {
    expect(mayReadRelation(person(['coordinator'], 'RED'), ['GREEN', 'RED'])).toBe(true);
    expect(mayReadRelation(person(['coordinator'], 'AMBER'), ['GREEN', 'RED'])).toBe(false);
    expect(mayReadRelation(person(['auditor'], 'RED'), ['GREEN', 'RED'])).toBe(false);
    expect(mayReadRelation(person(['agency_analyst'], 'RED', 'cert-a'), ['GREEN', 'GREEN'])).toBe(false);
  });
});

describe('labelled collections', () => {
  it('shows only what is within clearance and counts what it left out', () => {
    const items = [{ tlp: 'GREEN' as Tlp }, { tlp: 'RED' as Tlp }, { tlp: 'AMBER' as Tlp }];
    expect(partitionByClearance({ clearance: 'AMBER' }, items)).toEqual({
      shown: [{ tlp: 'GREEN' }, { tlp: 'AMBER' }],
      withheld: 1,
    });
  });
});

describe('statistics about people', () => {
  it('suppresses counts from 1 to under the threshold, and never uses a threshold below 5', () => {
    expect(releaseCount(0)).toEqual({ suppressed: false, count: 0 });
    expect(releaseCount(4)).toEqual({ suppressed: true });
    expect(releaseCount(5)).toEqual({ suppressed: false, count: 5 });
    expect(releaseCount(4, 2)).toEqual({ suppressed: true });
    expect(releaseCount(9, 10)).toEqual({ suppressed: true });
    expect(disclosureThreshold(1)).toBe(5);
    fc.assert(
      fc.property(fc.nat(1000), fc.integer({ min: -10, max: 50 }), (count, threshold) => {
        const released = releaseCount(count, threshold);
        if (!released.suppressed) expect(released.count === 0 || released.count >= 5).toBe(true);
      }),
    );
  });

  it('never leaves a lone suppressed part of a partition to be recovered by subtraction', () => {
    // 6 open, 1 closed: closed alone would be 7 − 6; the open count goes with it
    expect(releasePartition([6, 1])).toEqual([{ suppressed: true }, { suppressed: true }]);
    expect(releasePartition([9, 6, 1])).toEqual([
      { suppressed: false, count: 9 },
      { suppressed: true },
      { suppressed: true },
    ]);
    expect(releasePartition([6, 0], 5, [false, true])).toEqual([
      { suppressed: false, count: 6 },
      { suppressed: false, count: 0 },
    ]);
    fc.assert(
      fc.property(
        fc.array(fc.nat(20), { maxLength: 6 }),
        fc.array(fc.boolean(), { maxLength: 6 }),
        (parts, forced) => {
          const released = releasePartition(parts, 5, forced);
          const hidden = released.filter((r, i) => r.suppressed && parts[i]! > 0).length;
          // a lone non-zero part is the whole: the whole is then too small to show as well
          if (parts.filter((n) => n > 0).length > 1) expect(hidden).not.toBe(1);
          released.forEach((r, i) => {
            if (!r.suppressed) expect(r.count === 0 || r.count >= 5).toBe(true);
            if (forced[i] && parts[i]! > 0) expect(r.suppressed).toBe(true);
          });
        },
      ),
    );
  });
});

describe('service identities', () => {
  it('grant a Beacon process its scopes and nothing of a role', () => {
    const bare = person(['service'], 'RED');
    expect(mayRead(bare, { tlp: 'CLEAR', engagedAgencyIds: [] })).toBe(false);
    expect(readScope(bare)).toEqual({ kind: 'none' });
    const keys = process('key-rotation');
    expect(readScope(keys)).toEqual({ kind: 'none' });
    expect(hasScope(keys, 'victims:rewrap-keys')).toBe(true);
    expect(readScope(process('workflows', 'AMBER'))).toEqual({
      kind: 'centre',
      labels: ['CLEAR', 'GREEN', 'AMBER'],
    });
    expect(mayRead(process('impact'), { tlp: 'RED', engagedAgencyIds: [] })).toBe(true);
  });

  it("never count a person's scopes, whatever the issuer put in the claim", () => {
    const everything = Object.keys(SERVICE_SCOPES);
    const coordinator = { ...person(['coordinator'], 'RED'), scopes: everything };
    const analyst = { ...person(['agency_analyst'], 'RED', 'cert-a'), scopes: everything };
    for (const scope of Object.keys(SERVICE_SCOPES) as (keyof typeof SERVICE_SCOPES)[]) {
      expect(hasScope(coordinator, scope)).toBe(false);
      expect(hasScope(analyst, scope)).toBe(false);
    }
    expect(mayRead(analyst, { tlp: 'AMBER', engagedAgencyIds: [] })).toBe(false);
    expect(mayIssueCommands(analyst, 'transition')).toBe(false);
  });

  it('name only scopes Beacon knows, and each process a distinct job', () => {
    for (const scopes of Object.values(PROCESS_SCOPES)) {
      for (const scope of scopes) expect(Object.keys(SERVICE_SCOPES)).toContain(scope);
      expect(new Set(scopes).size).toBe(scopes.length);
    }
    expect(PROCESS_SCOPES.impact).not.toContain('incidents:transition');
    expect(PROCESS_SCOPES.workflows).not.toContain('victims:rewrap-keys');
  });
});

describe('merges', () => {
  it('refuses every role but the coordinator outright, whatever the incidents', () => {
    expect(mayIssueMerges(person(['coordinator'], 'CLEAR'))).toBe(true);
    for (const roles of [['auditor'], ['service'], ['agency_admin'], ['victim_officer']]) {
      expect(mayIssueMerges(person(roles, 'RED', 'cert-a'))).toBe(false);
    }
    fc.assert(
      fc.property(principal, incident, incident, (caller, a, b) => {
        if (mayMerge(caller, a, b)) expect(mayIssueMerges(caller)).toBe(true);
      }),
    );
  });

  it('names the agencies that could read either incident before and cannot read the survivor after', () => {
    const agencies = [
      { id: 'amber-on-merged', clearance: 'AMBER' as Tlp },
      { id: 'red-on-merged', clearance: 'RED' as Tlp },
      { id: 'amber-on-survivor', clearance: 'AMBER' as Tlp },
      { id: 'never-named', clearance: 'RED' as Tlp },
    ];
    const survivorBefore = { tlp: 'AMBER' as Tlp, engagedAgencyIds: ['amber-on-survivor'] };
    const mergedBefore = {
      tlp: 'AMBER' as Tlp,
      sourceAgencyId: 'red-on-merged',
      engagedAgencyIds: ['amber-on-merged'],
    };
    const after = {
      tlp: 'RED' as Tlp,
      engagedAgencyIds: ['amber-on-survivor', 'amber-on-merged', 'red-on-merged'],
    };
    expect(agenciesLosingAccess(agencies, [survivorBefore, mergedBefore], after)).toEqual([
      'amber-on-merged',
      'amber-on-survivor',
    ]);
    // A source not engaged on the survivor loses it even when cleared for its label.
    expect(
      agenciesLosingAccess(agencies, [mergedBefore], { tlp: 'AMBER', engagedAgencyIds: ['amber-on-merged'] }),
    ).toEqual(['red-on-merged']);
  });
});

describe('organisation records: vetting is the coordination centre’s', () => {
  const admin = (agencyId: string): Principal => ({
    subject: 'a',
    roles: ['agency_admin'],
    agencyId,
    clearance: 'RED',
  });
  const coordinator: Principal = {
    subject: 'c',
    roles: ['coordinator'],
    agencyId: undefined,
    clearance: 'RED',
  };

  it('lets an organisation’s admin change its contacts and languages, never a vetting field', () => {
    for (const field of ['contacts', 'languages', 'accepting', 'channels'])
      expect(mayChangeOrganisationField(admin('vs-bayern'), 'vs-bayern', field)).toBe(true);
    for (const field of VETTING_FIELDS)
      expect(mayChangeOrganisationField(admin('vs-bayern'), 'vs-bayern', field)).toBe(false);
  });

  it('lets a coordinator change every field, and nobody else any field of another organisation', () => {
    for (const field of [...VETTING_FIELDS, 'contacts'])
      expect(mayChangeOrganisationField(coordinator, 'vs-bayern', field)).toBe(true);
    expect(mayChangeOrganisationField(admin('crisis-line'), 'vs-bayern', 'contacts')).toBe(false);
    for (const roles of [['agency_analyst'], ['victim_officer'], ['auditor'], ['service']]) {
      const caller: Principal = { subject: 's', roles, agencyId: 'vs-bayern', clearance: 'RED' };
      expect(mayEditOrganisation(caller, 'vs-bayern')).toBe(false);
      expect(mayChangeOrganisationField(caller, 'vs-bayern', 'contacts')).toBe(false);
    }
    expect(mayEditOrganisation(admin('vs-bayern'), 'vs-bayern')).toBe(true);
  });

  it('names crisis capability, remit, jurisdictions, capacity and clearance as vetting', () => {
    for (const field of [
      'crisisCapable',
      'needsCovered',
      'sectors',
      'jurisdictions',
      'capacity',
      'clearance',
    ])
      expect(isVettingField(field)).toBe(true);
    expect(isVettingField('contacts')).toBe(false);
  });
});
