import { status, type ServiceError } from '@grpc/grpc-js';
import { describe, expect } from 'vitest';
import { PROCESS_SCOPES, type BeaconProcess } from '@beacon/domain';
import { fieldViolations, type Role } from '@beacon/platform';
import { commonV1, intakeV1 } from '@beacon/proto';
import { test as base } from '@beacon/testkit';
import { report, rpc, startTestIntake, type TestIntake } from './harness.js';

const test = base.extend(
  'intake',
  async ({ infra, names, jsm, mongoClient }, { onCleanup }): Promise<TestIntake> => {
    const t = await startTestIntake(infra, names);
    onCleanup(async () => {
      await t.stop();
      await mongoClient.db(t.dbName).dropDatabase();
      await jsm.streams.delete(t.stream);
    });
    return t;
  },
);

const code = (e: unknown) => (e as ServiceError).code;

// The authorisation rule, written out here on its own (not imported from src) so that the test
// checks the service against the rule rather than against itself.

const LABELS = ['CLEAR', 'GREEN', 'AMBER', 'AMBER+STRICT', 'RED'] as const;
type Label = (typeof LABELS)[number];
const rank = (label: Label) => LABELS.indexOf(label);
const PROTO_LABEL: Record<Label, commonV1.Tlp> = {
  CLEAR: commonV1.Tlp.TLP_CLEAR,
  GREEN: commonV1.Tlp.TLP_GREEN,
  AMBER: commonV1.Tlp.TLP_AMBER,
  'AMBER+STRICT': commonV1.Tlp.TLP_AMBER_STRICT,
  RED: commonV1.Tlp.TLP_RED,
};
/** Labels the whole Beacon community may read, named or not. */
const COMMUNITY: readonly Label[] = ['CLEAR', 'GREEN'];
/**
 * The coordination centre: named on every incident, but like everyone within its clearance;
 * and a Beacon process whose job reads incidents (scope `incidents:read`).
 */
const CENTRE: readonly Role[] = ['coordinator', 'auditor'];

const REPORTER = 'reporter-agency';
const ENGAGED = 'engaged-agency';
const UNINVOLVED = 'uninvolved-agency';

interface CallerSpec {
  readonly name: string;
  readonly roles: Role[];
  readonly agencyId?: string;
  readonly clearance: Label;
  /** For a service identity: the Beacon process it is. */
  readonly process?: BeaconProcess;
}

/** What the rule says about one caller and one incident, from who is named on it. */
function mayRead(caller: CallerSpec, tlp: Label, named: readonly string[]): boolean {
  if (rank(tlp) > rank(caller.clearance)) return false;
  if (caller.roles.some((role) => CENTRE.includes(role))) return true;
  if (caller.process) return (PROCESS_SCOPES[caller.process] as readonly string[]).includes('incidents:read');
  if (caller.agencyId === undefined) return false;
  // RED is not a community label, so only named agencies ever read it.
  return named.includes(caller.agencyId) || COMMUNITY.includes(tlp);
}

const agencyCallers = (role: Role, agencyId: string, clearances: readonly Label[]): CallerSpec[] =>
  clearances.map((clearance) => ({
    name: `${agencyId} ${role} ${clearance}`,
    roles: [role],
    agencyId,
    clearance,
  }));

const CALLERS: readonly CallerSpec[] = [
  { name: 'coordinator RED', roles: ['coordinator'], clearance: 'RED' },
  { name: 'coordinator AMBER+STRICT', roles: ['coordinator'], clearance: 'AMBER+STRICT' },
  { name: 'coordinator GREEN', roles: ['coordinator'], clearance: 'GREEN' },
  { name: 'coordinator CLEAR', roles: ['coordinator'], clearance: 'CLEAR' },
  { name: 'auditor AMBER', roles: ['auditor'], clearance: 'AMBER' },
  { name: 'auditor RED', roles: ['auditor'], clearance: 'RED' },
  { name: 'workflows AMBER', roles: ['service'], clearance: 'AMBER', process: 'workflows' },
  { name: 'key-rotation RED', roles: ['service'], clearance: 'RED', process: 'key-rotation' },
  ...agencyCallers('agency_analyst', REPORTER, ['GREEN', 'AMBER', 'AMBER+STRICT', 'RED']),
  ...agencyCallers('agency_analyst', ENGAGED, ['GREEN', 'AMBER', 'AMBER+STRICT', 'RED']),
  ...agencyCallers('victim_officer', ENGAGED, ['RED']),
  ...agencyCallers('agency_analyst', UNINVOLVED, ['CLEAR', 'GREEN', 'AMBER', 'AMBER+STRICT', 'RED']),
  ...agencyCallers('agency_admin', UNINVOLVED, ['GREEN', 'RED']),
  ...agencyCallers('victim_officer', UNINVOLVED, ['GREEN', 'AMBER', 'RED']),
];

const tokenFor = (t: TestIntake, caller: CallerSpec) =>
  t.token({
    roles: caller.roles,
    clearance: caller.clearance,
    subject: caller.process ?? caller.name.replaceAll(' ', '.'),
    ...(caller.agencyId ? { agencyId: caller.agencyId } : {}),
  });

const noFilter = {
  pageToken: '',
  status: intakeV1.IncidentStatus.INCIDENT_STATUS_UNSPECIFIED,
  filter: '',
  orderBy: '',
};

describe('incident access (BOLA matrix)', () => {
  test('every caller reads and lists exactly the incidents its role, agency and clearance allow', async ({
    intake: t,
  }) => {
    const reporter = await t.token({ roles: ['agency_analyst'], agencyId: REPORTER, clearance: 'RED' });
    const coordinator = await t.token({ roles: ['coordinator'], clearance: 'RED' });

    // One incident per label reported by REPORTER alone, one per label with ENGAGED engaged too.
    const incidents: { name: string; id: string; tlp: Label; named: string[] }[] = [];
    for (const [i, tlp] of LABELS.entries()) {
      for (const engaged of [false, true]) {
        const res = await rpc(
          t,
          'submitReport',
          report({
            tlp: PROTO_LABEL[tlp],
            observables: [{ type: 'domain', value: `matrix-${i}-${engaged ? 'e' : 'r'}.example` }],
          }),
          reporter,
        );
        expect(res.attached).toBe(false);
        expect(res.incident?.tlp).toBe(PROTO_LABEL[tlp]);
        const id = res.incident!.id;
        if (engaged) {
          const assigned = await rpc(
            t,
            'assignAgency',
            { incidentId: id, agencyId: ENGAGED, expectedVersion: 1 },
            coordinator,
          );
          expect(assigned.incident?.engagedAgencyIds).toEqual([ENGAGED]);
        }
        incidents.push({
          name: `${tlp}${engaged ? ' engaged' : ''}`,
          id,
          tlp,
          named: engaged ? [REPORTER, ENGAGED] : [REPORTER],
        });
      }
    }
    const nameOf = new Map(incidents.map((i) => [i.id, i.name]));

    const expectedGet: Record<string, Record<string, string>> = {};
    const actualGet: Record<string, Record<string, string>> = {};
    const expectedList: Record<string, string[]> = {};
    const actualList: Record<string, string[]> = {};
    for (const caller of CALLERS) {
      const token = await tokenFor(t, caller);
      const visible = incidents.filter((i) => mayRead(caller, i.tlp, i.named));
      expectedGet[caller.name] = Object.fromEntries(
        incidents.map((i) => [i.name, visible.includes(i) ? 'visible' : 'not found']),
      );
      expectedList[caller.name] = visible.map((i) => i.name).sort();

      const outcomes = await Promise.all(
        incidents.map(async (i) => {
          try {
            const got = await rpc(t, 'getIncident', { incidentId: i.id }, token);
            return got.incident?.id === i.id ? 'visible' : `wrong incident ${got.incident?.id}`;
          } catch (error) {
            return code(error) === status.NOT_FOUND ? 'not found' : `code ${code(error)}`;
          }
        }),
      );
      actualGet[caller.name] = Object.fromEntries(incidents.map((i, n) => [i.name, outcomes[n]!]));

      const listed = await rpc(t, 'listIncidents', { ...noFilter, pageSize: 100 }, token);
      expect(listed.nextPageToken, caller.name).toBe('');
      actualList[caller.name] = listed.incidents.map((i) => nameOf.get(i.id) ?? `unknown ${i.id}`).sort();
    }

    // The rule must deny somebody something, or this matrix proves nothing.
    expect(Object.values(expectedGet).flatMap((row) => Object.values(row))).toContain('not found');
    // Every (caller, incident) cell, allowed and denied, compared at once.
    expect(actualGet).toEqual(expectedGet);
    expect(actualList).toEqual(expectedList);

    // An agency role without an agency is not a caller at all: nothing to scope it to.
    const agencyless = await t.token({ roles: ['agency_analyst'], clearance: 'RED' });
    const get = await rpc(t, 'getIncident', { incidentId: incidents[0]!.id }, agencyless).catch(
      (e: unknown) => e,
    );
    expect(code(get)).toBe(status.UNAUTHENTICATED);
    const list = await rpc(t, 'listIncidents', { ...noFilter, pageSize: 100 }, agencyless).catch(
      (e: unknown) => e,
    );
    expect(code(list)).toBe(status.UNAUTHENTICATED);
  });

  test('an incident the caller may not read is indistinguishable from one that does not exist', async ({
    intake: t,
  }) => {
    const reporter = await t.token({ roles: ['agency_analyst'], agencyId: REPORTER, clearance: 'RED' });
    const outsider = await t.token({ roles: ['agency_analyst'], agencyId: UNINVOLVED, clearance: 'RED' });
    const { incident } = await rpc(t, 'submitReport', report({ tlp: PROTO_LABEL.AMBER }), reporter);
    const hidden = (await rpc(t, 'getIncident', { incidentId: incident!.id }, outsider).catch(
      (e: unknown) => e,
    )) as ServiceError;
    const missingId = `inc_${'0'.repeat(32)}`;
    const missing = (await rpc(t, 'getIncident', { incidentId: missingId }, outsider).catch(
      (e: unknown) => e,
    )) as ServiceError;
    expect(hidden.code).toBe(status.NOT_FOUND);
    expect(missing.code).toBe(status.NOT_FOUND);
    expect(hidden.details.replace(incident!.id, '<id>')).toBe(missing.details.replace(missingId, '<id>'));
  });

  test('a reader receives the observables its clearance allows, each with the most permissive label', async ({
    intake: t,
  }) => {
    const coordinator = await t.token({ roles: ['coordinator'], clearance: 'RED' });
    const amberReporter = await t.token({
      roles: ['agency_analyst'],
      agencyId: 'amber-reporter',
      clearance: 'AMBER',
    });
    // Cleared AMBER and engaged before it files: a report joins only an incident its reporter
    // reads (the agency's GREEN-cleared people still do not read it).
    const greenReporter = await t.token({
      roles: ['agency_analyst'],
      agencyId: 'green-reporter',
      clearance: 'AMBER',
    });
    const shared = { type: 'ipv4', value: '203.0.113.77' };
    const amberOnly = { type: 'domain', value: 'amber-only.example' };
    const greenOnly = { type: 'domain', value: 'green-only.example' };

    // An AMBER report opens the incident; a GREEN report of the same indicator joins it. The
    // incident is AMBER; the shared indicator was shared GREEN by one of its sources.
    const first = await rpc(
      t,
      'submitReport',
      report({ tlp: PROTO_LABEL.AMBER, observables: [shared, amberOnly] }),
      amberReporter,
    );
    const id = first.incident!.id;
    await rpc(
      t,
      'assignAgency',
      { incidentId: id, agencyId: 'green-reporter', expectedVersion: 0 },
      coordinator,
    );
    const second = await rpc(
      t,
      'submitReport',
      report({ tlp: PROTO_LABEL.GREEN, observables: [{ ...shared }, greenOnly] }),
      greenReporter,
    );
    expect(second).toMatchObject({ attached: true, report: { incidentId: id }, incident: { tlp: 3 } });
    const joined = await rpc(t, 'getIncident', { incidentId: id }, coordinator);
    expect(joined.incident?.reportIds).toContain(second.report!.id);
    await rpc(t, 'assignAgency', { incidentId: id, agencyId: ENGAGED, expectedVersion: 0 }, coordinator);

    const labelOf: Record<string, Label> = {
      [`${shared.type}:${shared.value}`]: 'GREEN',
      [`${amberOnly.type}:${amberOnly.value}`]: 'AMBER',
      [`${greenOnly.type}:${greenOnly.value}`]: 'GREEN',
    };
    // The source (whose report opened it) and the engaged agencies.
    const named = ['amber-reporter', 'green-reporter', ENGAGED];
    const readers: CallerSpec[] = [
      { name: 'coordinator', roles: ['coordinator'], clearance: 'RED' },
      { name: 'amber reporter', roles: ['agency_analyst'], agencyId: 'amber-reporter', clearance: 'AMBER' },
      {
        name: 'green reporter GREEN',
        roles: ['agency_analyst'],
        agencyId: 'green-reporter',
        clearance: 'GREEN',
      },
      {
        name: 'green reporter AMBER',
        roles: ['agency_analyst'],
        agencyId: 'green-reporter',
        clearance: 'AMBER',
      },
      { name: 'engaged GREEN', roles: ['agency_analyst'], agencyId: ENGAGED, clearance: 'GREEN' },
      { name: 'engaged RED', roles: ['agency_analyst'], agencyId: ENGAGED, clearance: 'RED' },
      { name: 'outsider GREEN', roles: ['agency_analyst'], agencyId: UNINVOLVED, clearance: 'GREEN' },
      { name: 'outsider AMBER', roles: ['agency_analyst'], agencyId: UNINVOLVED, clearance: 'AMBER' },
    ];
    const expected: Record<string, string[] | 'not found'> = {};
    const actualGet: Record<string, string[] | 'not found'> = {};
    const actualList: Record<string, string[] | 'not found'> = {};
    for (const reader of readers) {
      expected[reader.name] = mayRead(reader, 'AMBER', named)
        ? Object.entries(labelOf)
            .filter(([, label]) => mayRead(reader, label, named))
            .map(([key]) => key)
            .sort()
        : 'not found';
      const token = await tokenFor(t, reader);
      const keys = (incident: intakeV1.Incident) =>
        incident.observables.map((o) => `${o.type}:${o.value}`).sort();
      try {
        actualGet[reader.name] = keys((await rpc(t, 'getIncident', { incidentId: id }, token)).incident!);
      } catch (error) {
        expect(code(error), reader.name).toBe(status.NOT_FOUND);
        actualGet[reader.name] = 'not found';
      }
      const listed = (await rpc(t, 'listIncidents', { ...noFilter, pageSize: 100 }, token)).incidents;
      actualList[reader.name] = listed.length === 0 ? 'not found' : keys(listed[0]!);
      expect(listed.map((i) => i.id)).toEqual(listed.length === 0 ? [] : [id]);
    }
    expect(Object.values(expected)).toContain('not found');
    expect(actualGet).toEqual(expected);
    expect(actualList).toEqual(expected);
  });

  test('incidents are listed newest first, page by page, each exactly once and only if visible', async ({
    intake: t,
  }) => {
    const reporter = await t.token({ roles: ['agency_analyst'], agencyId: REPORTER, clearance: 'RED' });
    const coordinator = await t.token({ roles: ['coordinator'], clearance: 'RED' });
    const outsider = await t.token({ roles: ['agency_analyst'], agencyId: UNINVOLVED, clearance: 'AMBER' });
    const created: { id: string; openedAt: number; tlp: Label }[] = [];
    for (let i = 0; i < 25; i++) {
      const tlp: Label = i % 3 === 0 ? 'AMBER' : 'GREEN';
      const { incident } = await rpc(
        t,
        'submitReport',
        report({ tlp: PROTO_LABEL[tlp], observables: [{ type: 'domain', value: `page-${i}.example` }] }),
        reporter,
      );
      created.push({ id: incident!.id, openedAt: incident!.openedAt!.getTime(), tlp });
    }
    // Newest first; incidents opened in the same millisecond by id, descending.
    const newestFirst = [...created]
      .sort((a, b) => b.openedAt - a.openedAt || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0))
      .map((i) => i.id);
    expect(created.every((c, i) => i === 0 || c.openedAt >= created[i - 1]!.openedAt)).toBe(true);

    const pages = async (token: string, pageSize: number, pageToken = '') => {
      const seen: string[][] = [];
      for (;;) {
        const page = await rpc(t, 'listIncidents', { ...noFilter, pageSize, pageToken }, token);
        seen.push(page.incidents.map((i) => i.id));
        if (!page.nextPageToken) return seen;
        expect(seen.length).toBeLessThan(10);
        pageToken = page.nextPageToken;
      }
    };

    const all = await pages(coordinator, 10);
    expect(all.map((p) => p.length)).toEqual([10, 10, 5]);
    expect(all.flat()).toEqual(newestFirst);

    const green = newestFirst.filter((id) => created.find((c) => c.id === id)!.tlp === 'GREEN');
    expect(green).toHaveLength(16);
    const outsiderPages = await pages(outsider, 10);
    expect(outsiderPages.map((p) => p.length)).toEqual([10, 6]);
    expect(outsiderPages.flat()).toEqual(green);

    // A page token says where to continue, not what may be seen: the coordinator's token in an
    // outsider's hands continues the outsider's own list.
    const firstPage = await rpc(t, 'listIncidents', { ...noFilter, pageSize: 10 }, coordinator);
    const continued = await pages(outsider, 100, firstPage.nextPageToken);
    expect(continued.flat()).toEqual(green.filter((id) => newestFirst.indexOf(id) >= 10));
  });

  test('a page token the service did not issue, or an oversized page, is an invalid argument', async ({
    intake: t,
  }) => {
    const coordinator = await t.token({ roles: ['coordinator'], clearance: 'RED' });
    await rpc(t, 'submitReport', report(), coordinator);
    const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
    const tokens = [
      'not-a-page-token',
      encode({ openedAt: 'yesterday', id: 'inc_x' }),
      encode({ openedAt: '2024-01-01T00:00:00.000Z', id: { $gt: '' } }),
      encode({ openedAt: { $gt: '' }, id: 'inc_x' }),
      encode([]),
      'x'.repeat(600),
    ];
    for (const pageToken of tokens) {
      const error = await rpc(
        t,
        'listIncidents',
        { ...noFilter, pageSize: 10, pageToken },
        coordinator,
      ).catch((e: unknown) => e);
      expect(code(error), pageToken).toBe(status.INVALID_ARGUMENT);
      expect(fieldViolations((error as ServiceError).metadata).map((v) => v.field)).toEqual(['page_token']);
    }
    const tooBig = await rpc(t, 'listIncidents', { ...noFilter, pageSize: 101 }, coordinator).catch(
      (e: unknown) => e,
    );
    expect(code(tooBig)).toBe(status.INVALID_ARGUMENT);
  });
});
