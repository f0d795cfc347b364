/**
 * The trust model as a matrix, driven through the public gateway: role × clearance × engagement
 * (never, engaged, removed) × incident label × operation. Each operation is one test that runs
 * all its cells and lists every cell whose answer is not the one `expected.ts` gives, with what
 * was observed, so one run shows the whole picture. REST drives every cell; gRPC drives get,
 * export and list too, and the feed (replay and live) is gRPC only: notify's StreamFeed, passed
 * through the gateway's gRPC door.
 */
import { afterAll, beforeAll, describe, expect, inject, test } from 'vitest';
import { status as grpcStatus } from '@grpc/grpc-js';
import type { intakeV1 } from '@beacon/proto';
import { testNames } from '@beacon/testkit';
// Declares what `inject('infra')` returns: the run's servers, started by the global set-up.
import type {} from '@beacon/testkit/global-setup';
import {
  describeCell,
  expected,
  LABELS,
  OPERATIONS,
  type Label,
  type Operation,
  type Outcome,
} from './expected.js';
import {
  FeedReader,
  judgeFeed,
  judgeHidden,
  judgeHiddenGrpc,
  judgeSearch,
  listedIds,
  madeUpId,
  normalised,
  type Answer,
  type Verdict,
} from './probes.js';
import {
  AGENCY,
  SEVERITY_RAISED,
  buildWorld,
  freshDomain,
  rest,
  unaryCall,
  type Fixture,
  type MatrixCaller,
  type World,
} from './world.js';

let world: World;

beforeAll(async () => {
  world = await buildWorld(inject('infra'), testNames());
}, 240_000);

afterAll(async () => {
  await world?.stop();
});

const fixture = (label: Label): Fixture => world.fixtures.get(label)!;

/** Runs `check` on every (caller, label) of an operation, a batch at a time, and lists the misses. */
async function runCells(
  operation: Operation,
  check: (caller: MatrixCaller, label: Label, outcome: Outcome) => Promise<Verdict>,
): Promise<string[]> {
  const cells = world.callers.flatMap((caller) => LABELS.map((label) => ({ caller, label })));
  const misses: string[] = [];
  for (let i = 0; i < cells.length; i += 25) {
    await Promise.all(
      cells.slice(i, i + 25).map(async ({ caller, label }) => {
        const outcome = expected(caller, label, operation);
        const verdict = await check(caller, label, outcome).catch((error: unknown): Verdict => ({
          pass: false,
          observed: `threw ${String(error)}`,
        }));
        if (!verdict.pass)
          misses.push(`${describeCell(caller, label, operation)}: expected ${outcome}; ${verdict.observed}`);
      }),
    );
  }
  return misses.sort();
}

/** The answers for a made-up id, per caller, fetched once. */
function perCaller<T>(fetch: (caller: MatrixCaller) => Promise<T>) {
  const cache = new Map<string, Promise<T>>();
  return (caller: MatrixCaller) => {
    if (!cache.has(caller.key)) cache.set(caller.key, fetch(caller));
    return cache.get(caller.key)!;
  };
}

function servedOrHidden(
  operation: Operation,
  path: (id: string) => string,
  served: (answer: Answer, fixture: Fixture) => boolean,
) {
  const someId = () => fixture('CLEAR').incidentId;
  const madeUp = perCaller(async (caller) => {
    const id = madeUpId(someId());
    return { id, answer: await rest(world.stack, 'GET', path(id), caller.token) };
  });
  return async (caller: MatrixCaller, label: Label, outcome: Outcome): Promise<Verdict> => {
    const f = fixture(label);
    const answer = await rest(world.stack, 'GET', path(f.incidentId), caller.token);
    if (outcome === 'allowed') {
      return answer.status === 200 && served(answer, f)
        ? { pass: true }
        : { pass: false, observed: `${answer.status} ${JSON.stringify(answer.body).slice(0, 300)}` };
    }
    const other = await madeUp(caller);
    return judgeHidden(caller, operation, answer, f.incidentId, other.answer, other.id);
  };
}

// Each operation runs hundreds of calls, some (reports) each starting a response workflow.
describe(
  `the trust matrix: 55 callers × ${LABELS.length} labels × ${OPERATIONS.length} operations`,
  { timeout: 240_000 },
  () => {
    test(`has ${55 * LABELS.length * OPERATIONS.length} cells, every one of them decided by expected()`, () => {
      expect(world.callers).toHaveLength(55);
      const outcomes = new Map<Outcome, number>();
      for (const caller of world.callers)
        for (const label of LABELS)
          for (const operation of OPERATIONS) {
            const outcome = expected(caller, label, operation);
            outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
          }
      const total = [...outcomes.values()].reduce((a, b) => a + b, 0);
      console.log(`trust matrix: ${total} cells`, Object.fromEntries(outcomes));
      expect(total).toBe(55 * LABELS.length * OPERATIONS.length);
      // Both sides of the boundary are exercised for every operation.
      for (const operation of OPERATIONS) {
        const kinds = new Set(world.callers.flatMap((c) => LABELS.map((l) => expected(c, l, operation))));
        expect(kinds.size, operation).toBeGreaterThan(1);
      }
    });

    test('the world was built: every response engaged the engaged agency, every incident was assessed', () => {
      // Without it the acknowledge cells cannot be judged fairly; this says why they fail.
      expect(world.setupProblems).toEqual([]);
    });

    test('get (REST GET /v1/incidents/{id})', async () => {
      const misses = await runCells(
        'get',
        servedOrHidden(
          'get',
          (id) => `/v1/incidents/${id}`,
          (a, f) => (a.body['incident'] as { id?: string })?.id === f.incidentId,
        ),
      );
      expect(misses).toEqual([]);
    });

    test('response (REST GET /v1/responses/{id})', async () => {
      const misses = await runCells(
        'response',
        servedOrHidden(
          'response',
          (id) => `/v1/responses/${id}`,
          (a, f) => (a.body['status'] as { incidentId?: string })?.incidentId === f.incidentId,
        ),
      );
      expect(misses).toEqual([]);
    });

    test('get (gRPC IntakeService/GetIncident at the gateway)', async () => {
      const madeUp = perCaller(async (caller) => {
        const id = madeUpId(fixture('CLEAR').incidentId);
        return {
          id,
          answer: await unaryCall<intakeV1.GetIncidentRequest, intakeV1.GetIncidentResponse>(
            world.intakeGrpc,
            'getIncident',
            { incidentId: id },
            caller.token,
          ),
        };
      });
      const misses = await runCells('get', async (caller, label, outcome) => {
        const f = fixture(label);
        const got = await unaryCall<intakeV1.GetIncidentRequest, intakeV1.GetIncidentResponse>(
          world.intakeGrpc,
          'getIncident',
          { incidentId: f.incidentId },
          caller.token,
        );
        if (outcome === 'allowed') {
          return got.ok && got.value.incident?.id === f.incidentId
            ? { pass: true }
            : {
                pass: false,
                observed: got.ok ? 'served without the incident' : `${got.code} ${got.details}`,
              };
        }
        const other = await madeUp(caller);
        return judgeHiddenGrpc(
          caller,
          'get',
          got.ok ? undefined : got,
          f.incidentId,
          other.answer.ok ? undefined : other.answer,
          other.id,
        );
      });
      expect(misses).toEqual([]);
    });

    test('list (REST GET /v1/incidents, every page)', async () => {
      const lists = perCaller((caller) => listedIds(world, caller.token));
      const misses = await runCells('list', async (caller, label, outcome) => {
        const { ids, error } = await lists(caller);
        const listed = ids.has(fixture(label).incidentId);
        if (outcome === 'allowed')
          return listed ? { pass: true } : { pass: false, observed: error ?? 'not listed' };
        return listed ? { pass: false, observed: 'listed' } : { pass: true };
      });
      expect(misses).toEqual([]);
    });

    test('list (gRPC IntakeService/ListIncidents at the gateway)', async () => {
      const lists = perCaller(async (caller) => {
        const got = await unaryCall<intakeV1.ListIncidentsRequest, intakeV1.ListIncidentsResponse>(
          world.intakeGrpc,
          'listIncidents',
          { pageSize: 100, pageToken: '', status: 0, filter: '', orderBy: '' },
          caller.token,
        );
        return got.ok ? new Set(got.value.incidents.map((i) => i.id)) : new Set<string>();
      });
      const misses = await runCells('list', async (caller, label, outcome) => {
        const listed = (await lists(caller)).has(fixture(label).incidentId);
        if (outcome === 'allowed') return listed ? { pass: true } : { pass: false, observed: 'not listed' };
        return listed ? { pass: false, observed: 'listed' } : { pass: true };
      });
      expect(misses).toEqual([]);
    });

    test('search (REST POST /v1/indicators:lookup)', async () => {
      const misses = await runCells('search', (caller, label, outcome) =>
        judgeSearch(world, caller, outcome, fixture(label).incidentId, fixture(label).indicator),
      );
      expect(misses).toEqual([]);
    });

    test('export (REST GET /v1/incidents/{id}:exportStix)', async () => {
      const misses = await runCells(
        'export',
        servedOrHidden(
          'export',
          (id) => `/v1/incidents/${id}:exportStix`,
          (a) => typeof a.body['bundleJson'] === 'string' && a.body['bundleJson'].includes('"bundle"'),
        ),
      );
      expect(misses).toEqual([]);
    });

    test('export (gRPC IntakeService/ExportIncidentStix at the gateway)', async () => {
      const madeUp = perCaller(async (caller) => {
        const id = madeUpId(fixture('CLEAR').incidentId);
        return {
          id,
          answer: await unaryCall<intakeV1.ExportIncidentStixRequest, intakeV1.ExportIncidentStixResponse>(
            world.intakeGrpc,
            'exportIncidentStix',
            { incidentId: id },
            caller.token,
          ),
        };
      });
      const misses = await runCells('export', async (caller, label, outcome) => {
        const f = fixture(label);
        const got = await unaryCall<intakeV1.ExportIncidentStixRequest, intakeV1.ExportIncidentStixResponse>(
          world.intakeGrpc,
          'exportIncidentStix',
          { incidentId: f.incidentId },
          caller.token,
        );
        if (outcome === 'allowed') {
          return got.ok && got.value.bundleJson.length > 0
            ? { pass: true }
            : { pass: false, observed: got.ok ? 'empty bundle' : `${got.code} ${got.details}` };
        }
        const other = await madeUp(caller);
        return judgeHiddenGrpc(
          caller,
          'export',
          got.ok ? undefined : got,
          f.incidentId,
          other.answer.ok ? undefined : other.answer,
          other.id,
        );
      });
      expect(misses).toEqual([]);
    });

    /** Whose feed a caller reads: its own agency's; the centre reads the engaged agency's. */
    const feedOf = (caller: MatrixCaller) => caller.agencyId ?? AGENCY.engaged;

    test('stream (gRPC NotifyService/StreamFeed from now, then every incident changes)', async () => {
      const readers = new Map(
        world.callers.map((c) => [c.key, new FeedReader(world, c.token, feedOf(c), 0)]),
      );
      try {
        // Every stream is open (it sent a heartbeat, or was refused) before anything happens.
        await Promise.all([...readers.values()].map((r) => r.quiet()));
        for (const label of LABELS) {
          const { status, body } = await rest(
            world.stack,
            'POST',
            `/v1/incidents/${fixture(label).incidentId}:updateSeverity`,
            world.coordinator,
            {
              severityInputs: SEVERITY_RAISED,
              expectedVersion: 0,
            },
          );
          expect(status, JSON.stringify(body)).toBe(200);
        }
        // The engaged RED analyst hears of every change: the fan-out has passed every feed.
        const reference = readers.get('agency_analyst/RED/engaged')!;
        const deadline = Date.now() + 30_000;
        while (
          !LABELS.every((l) => reference.items.some((i) => i.incidentId === fixture(l).incidentId)) &&
          Date.now() < deadline
        ) {
          await reference.quiet();
        }
        // Then every stream goes quiet once more: what it was going to get, it got.
        await Promise.all([...readers.values()].map((r) => r.quiet()));
        const misses = await runCells('stream', async (caller, label, outcome) =>
          judgeFeed(caller, outcome, readers.get(caller.key)!, fixture(label).incidentId),
        );
        expect(misses).toEqual([]);
      } finally {
        for (const reader of readers.values()) reader.close();
      }
    });

    test('feed replay (gRPC NotifyService/StreamFeed from sequence 1)', async () => {
      const readers = new Map(
        world.callers.map((c) => [c.key, new FeedReader(world, c.token, feedOf(c), 1)]),
      );
      try {
        await Promise.all([...readers.values()].map((r) => r.quiet()));
        const misses = await runCells('feed-replay', async (caller, label, outcome) =>
          judgeFeed(caller, outcome, readers.get(caller.key)!, fixture(label).incidentId),
        );
        expect(misses).toEqual([]);
      } finally {
        for (const reader of readers.values()) reader.close();
      }
    });

    test('acknowledge (REST POST /v1/responses/{id}/agencies/{agency}:acknowledge)', async () => {
      const path = (id: string, caller: MatrixCaller) =>
        `/v1/responses/${id}/agencies/${feedOf(caller)}:acknowledge`;
      const madeUp = perCaller(async (caller) => {
        const id = madeUpId(fixture('CLEAR').incidentId);
        return {
          id,
          answer: await rest(world.stack, 'POST', path(id, caller), caller.token, { note: 'seen' }),
        };
      });
      const acknowledged = new Set<Label>();
      const misses = await runCells('acknowledge', async (caller, label, outcome) => {
        const f = fixture(label);
        const answer = await rest(world.stack, 'POST', path(f.incidentId, caller), caller.token, {
          note: 'seen',
        });
        const observed = `${answer.status} ${JSON.stringify(answer.body).slice(0, 300)}`;
        switch (outcome) {
          case 'allowed':
            // The first acknowledgement stands; a later one by someone who may is refused as done.
            if (answer.status === 200 && answer.body['status']) {
              acknowledged.add(label);
              return { pass: true };
            }
            return answer.status === 400 && /acknowledged/.test(String(answer.body['detail']))
              ? { pass: true }
              : { pass: false, observed };
          case 'refused': {
            // A caller that may read the incident learns nothing from the reason; it must be a
            // plain client error, never success.
            return answer.status >= 400 && answer.status < 500 ? { pass: true } : { pass: false, observed };
          }
          case 'hidden':
          case 'opens-own':
          case 'redacted': {
            const other = await madeUp(caller);
            return judgeHidden(caller, 'acknowledge', answer, f.incidentId, other.answer, other.id);
          }
        }
      });
      // On every incident, some allowed acknowledgement was the one that took.
      for (const label of LABELS)
        if (!acknowledged.has(label)) misses.push(`${label}: nobody's acknowledgement was taken`);
      expect(misses).toEqual([]);
    });

    test('assessment (REST GET /v1/assessments/{id})', async () => {
      const madeUp = perCaller(async (caller) => {
        const id = madeUpId(fixture('CLEAR').assessmentId);
        return { id, answer: await rest(world.stack, 'GET', `/v1/assessments/${id}`, caller.token) };
      });
      const misses = await runCells('assessment', async (caller, label, outcome) => {
        const f = fixture(label);
        const answer = await rest(world.stack, 'GET', `/v1/assessments/${f.assessmentId}`, caller.token);
        const text = JSON.stringify(answer.body);
        const observed = `${answer.status} ${text.slice(0, 300)}`;
        // Which assets the answer names, by label.
        const named = LABELS.filter((l) => text.includes(`"${world.assetIds.get(l)!}"`));
        switch (outcome) {
          case 'allowed':
            return answer.status === 200 && named.length === LABELS.length
              ? { pass: true }
              : { pass: false, observed: `names ${named.join(', ') || 'no asset'}: ${observed}` };
          case 'redacted': {
            // Served; every asset within the caller's clearance named, none above it, and the
            // number left out said (issue 19: "3 assets above your clearance not shown").
            const within = LABELS.filter((l) => LABELS.indexOf(l) <= LABELS.indexOf(caller.clearance));
            if (answer.status !== 200 || named.join() !== within.join()) {
              return { pass: false, observed: `names ${named.join(', ') || 'no asset'}: ${observed}` };
            }
            const withheld = LABELS.length - within.length;
            const counted = (answer.body['assessment'] as { withheldAssets?: number } | undefined)
              ?.withheldAssets;
            return counted === withheld
              ? { pass: true }
              : { pass: false, observed: `no count of the ${withheld} withheld: ${observed}` };
          }
          case 'hidden':
          case 'opens-own':
          case 'refused': {
            const other = await madeUp(caller);
            return judgeHidden(caller, 'assessment', answer, f.assessmentId, other.answer, other.id);
          }
        }
      });
      expect(misses).toEqual([]);
    });

    test("submit a correlated report (REST POST /v1/reports, a CLEAR report with one of the incident's indicators)", async () => {
      const report = (value: string) => ({
        title: 'Seen the same domain here',
        description: 'A CLEAR report carrying one indicator.',
        tlp: 'TLP_CLEAR',
        classification: { rsitClass: 'intrusions', rsitType: 'system-compromise' },
        sectors: ['energy'],
        jurisdictions: ['MT'],
        observables: [{ type: 'domain', value }],
        awareAt: new Date(Date.now() - 600_000).toISOString(),
      });
      /** What an answer looks like, ids and values aside: for comparing with an unseen indicator. */
      const shape = (answer: Answer) => {
        const incident = answer.body['incident'] as
          { reportIds?: string[]; tlp?: string; engagedAgencyIds?: string[] } | undefined;
        return JSON.stringify({
          status: answer.status,
          keys: Object.keys(answer.body).sort(),
          attached: answer.body['attached'] ?? false,
          reportKeys: Object.keys((answer.body['report'] as object | undefined) ?? {}).sort(),
          incidentKeys: Object.keys(incident ?? {}).sort(),
          reports: incident?.reportIds?.length,
          tlp: incident?.tlp,
          engaged: incident?.engagedAgencyIds?.length,
          problem: answer.status >= 400 ? answer.body : undefined,
        });
      };
      const unseen = perCaller(async (caller) =>
        rest(world.stack, 'POST', '/v1/reports', caller.token, report(freshDomain('nowhere'))),
      );
      const filed = new Map<
        string,
        { label: Label; reportId: string; outcome: Outcome; caller: MatrixCaller }
      >();
      const misses = await runCells('submit-correlated', async (caller, label, outcome) => {
        const f = fixture(label);
        const answer = await rest(
          world.stack,
          'POST',
          '/v1/reports',
          caller.token,
          report(f.probeIndicators.get(caller.key)!),
        );
        const observed = `${answer.status} ${JSON.stringify(answer.body).slice(0, 300)}`;
        const reportId = (answer.body['report'] as { id?: string } | undefined)?.id;
        if (reportId) filed.set(reportId, { label, reportId, outcome, caller });
        const incidentId = (answer.body['incident'] as { id?: string } | undefined)?.id;
        switch (outcome) {
          case 'allowed':
            return answer.status === 201 && answer.body['attached'] === true && incidentId === f.incidentId
              ? { pass: true }
              : { pass: false, observed };
          case 'opens-own': {
            if (incidentId === f.incidentId || JSON.stringify(answer.body).includes(f.incidentId)) {
              return { pass: false, observed: `joined or named the incident: ${observed}` };
            }
            const baseline = await unseen(caller);
            return shape(answer) === shape(baseline)
              ? { pass: true }
              : {
                  pass: false,
                  observed: `differs from an unseen indicator: ${shape(answer)} vs ${shape(baseline)}`,
                };
          }
          case 'hidden':
          case 'redacted':
          case 'refused': {
            const baseline = await unseen(caller);
            return normalised(answer) === normalised(baseline) && answer.status >= 400
              ? { pass: true }
              : { pass: false, observed: `${observed} vs unseen ${baseline.status}` };
          }
        }
      });
      // Seen from the centre afterwards: each incident holds exactly the reports of the callers
      // allowed to join it, and none of the others.
      for (const label of LABELS) {
        const { body } = await rest(
          world.stack,
          'GET',
          `/v1/incidents/${fixture(label).incidentId}`,
          world.coordinator,
        );
        const held = new Set((body['incident'] as { reportIds?: string[] } | undefined)?.reportIds ?? []);
        for (const f of filed.values()) {
          if (f.label !== label) continue;
          const joined = held.has(f.reportId);
          if (joined !== (f.outcome === 'allowed')) {
            misses.push(
              `${describeCell(f.caller, label, 'submit-correlated')}: expected ${f.outcome}; the incident ${joined ? 'holds' : 'lacks'} report ${f.reportId}`,
            );
          }
        }
      }
      expect(misses.sort()).toEqual([]);
    });

    test('a feed refused for a role is refused the same for any agency', async () => {
      // Guards the feed cells: a refusal for a role does not depend on whose feed it asks for.
      const auditor = world.callers.find((c) => c.role === 'auditor' && c.clearance === 'RED')!;
      const codes = await Promise.all(
        [AGENCY.engaged, 'no-such-agency'].map(async (agencyId) => {
          const reader = new FeedReader(world, auditor.token, agencyId, 1);
          await reader.quiet();
          reader.close();
          return reader.error?.code;
        }),
      );
      expect(codes[0]).toBe(codes[1]);
      expect([grpcStatus.PERMISSION_DENIED, grpcStatus.NOT_FOUND]).toContain(codes[0]);
    });
  },
);
