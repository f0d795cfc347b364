/**
 * Reports carry their reporter's NCISS judgement (issue 21 point 7): the incident a report
 * opens takes it; the source agency's later report raises it; another agency's is kept as a
 * proposal and changes nothing; impact's cascade is recorded as impact's, and only a Beacon
 * process may say a change is the cascade's. Every input says where it came from.
 */
import { status, type ServiceError } from '@grpc/grpc-js';
import { jetstream } from '@nats-io/jetstream';
import { describe, expect } from 'vitest';
import { fieldViolations } from '@beacon/platform';
import { intakeV1 } from '@beacon/proto';
import { test as base } from '@beacon/testkit';
import { publishedEvents, report, rpc, startTestIntake, type TestIntake } from './harness.js';

const test = base.extend('intake', async ({ infra, names }, { onCleanup }): Promise<TestIntake> => {
  const t = await startTestIntake(infra, names);
  onCleanup(() => t.stop());
  return t;
});

const { SEVERITY_INPUT_SOURCE_REPORTER: REPORTER, SEVERITY_INPUT_SOURCE_IMPACT: IMPACT } =
  intakeV1.SeverityInputSource;
const NONE = {
  functionalImpact: '',
  observedActivity: '',
  location: '',
  actor: '',
  informationImpact: '',
  recoverability: '',
  crossSectorDependency: '',
  potentialImpact: '',
};
/** What the first grid operator knows an hour into the blackout. */
const GIVEN = {
  functionalImpact: 'denial-critical',
  observedActivity: 'effect',
  location: 'critical-systems',
  informationImpact: 'destruction-critical',
};
const OPERATOR = { ...NONE, ...GIVEN };
const GRID = {
  sectors: ['energy'],
  jurisdictions: ['UA'],
  observables: [{ type: 'ipv4', value: '198.51.100.7' }],
};

describe('severity inputs on reports', () => {
  test('open the incident at the reporter’s level; the source agency’s next report raises it; another agency’s is only proposed', async ({
    intake: t,
    nats,
    mongoClient,
  }) => {
    const a = await t.token({ roles: ['agency_analyst'], agencyId: 'oblenergo-a' });
    const b = await t.token({ roles: ['agency_analyst'], agencyId: 'oblenergo-b' });
    const cc = await t.token({ roles: ['coordinator'], clearance: 'RED' });

    const first = await rpc(t, 'submitReport', report({ ...GRID, tlp: 2, severityInputs: OPERATOR }), a);
    const id = first.incident!.id;
    // 0.18 + 0.10 + 0.10·6/7 + 0.14 + actor unknown 0.08·1/6 = 0.519
    expect(first.incident!.severity).toEqual({ score: 52, level: 2, levelName: 'medium' });
    expect(first.incident!.severityInputs).toEqual({
      ...GIVEN,
      actor: 'unknown',
      recoverability: 'regular',
      crossSectorDependency: 'none',
      potentialImpact: 'none',
    });
    expect(first.report!.severityInputs).toEqual(OPERATOR);
    const origin = first.incident!.severityOrigins!;
    expect(origin.functionalImpact).toMatchObject({
      source: REPORTER,
      agencyId: 'oblenergo-a',
      reportId: first.report!.id,
    });
    expect(origin.potentialImpact).toBeUndefined();

    // Another operator's report joins (GREEN, which it may read) with graver inputs: nothing moves.
    const other = await rpc(
      t,
      'submitReport',
      report({
        ...GRID,
        tlp: 2,
        severityInputs: { ...NONE, actor: 'nation-state', recoverability: 'extended' },
      }),
      b,
    );
    expect(other.attached).toBe(true);
    expect(other.incident!.severity).toEqual(first.incident!.severity);
    expect(other.incident!.severityInputs).toEqual(first.incident!.severityInputs);
    expect(other.incident!.severityProposals).toEqual([
      {
        reportId: other.report!.id,
        reporterAgencyId: 'oblenergo-b',
        severityInputs: { ...NONE, actor: 'nation-state', recoverability: 'extended' },
        proposedAt: expect.any(Date) as unknown,
      },
    ]);

    // The source agency's own later report raises what it gives, and never lowers.
    const own = await rpc(
      t,
      'submitReport',
      report({
        ...GRID,
        tlp: 2,
        severityInputs: { ...NONE, functionalImpact: 'minimal-critical', actor: 'nation-state' },
      }),
      a,
    );
    expect(own.incident!.severityInputs).toMatchObject({
      functionalImpact: 'denial-critical',
      actor: 'nation-state',
    });
    expect(own.incident!.severityOrigins!.actor).toMatchObject({
      source: REPORTER,
      reportId: own.report!.id,
    });
    // Actor nation-state, 0.08 where unknown gave 0.08·1/6: 0.5857.
    expect(own.incident!.severity).toEqual({ score: 59, level: 3, levelName: 'high' });
    expect(
      own.incident!.severityProposals.map((p) => [p.reporterAgencyId, p.severityInputs!.functionalImpact]),
    ).toEqual([
      ['oblenergo-b', ''],
      ['oblenergo-a', 'minimal-critical'],
    ]);

    // A coordinator sees the same.
    const { incident } = await rpc(t, 'getIncident', { incidentId: id }, cc);
    expect(incident!.severityProposals).toHaveLength(2);

    // The severity-changed event says which input moved and whose it is.
    const events = await publishedEvents(t, jetstream(nats), mongoClient.db(t.dbName));
    const changed = events.filter((e) => e.type === 'beacon.incident.severity-changed.v1');
    expect(changed).toHaveLength(1);
    const payload = intakeV1.SeverityChanged.decode(changed[0]!.data);
    expect(payload).toMatchObject({ previousScore: 52, previousLevel: 2 });
    expect(payload.changes).toEqual([
      {
        input: 'actor',
        previous: 'unknown',
        current: 'nation-state',
        origin: {
          source: REPORTER,
          agencyId: 'oblenergo-a',
          reportId: own.report!.id,
          at: expect.any(Date) as unknown,
        },
      },
    ]);
  });

  test('refuses a category off its scale, naming the input and its categories', async ({ intake: t }) => {
    const a = await t.token({ roles: ['agency_analyst'], agencyId: 'oblenergo-a' });
    const refused = await rpc(
      t,
      'submitReport',
      report({ ...GRID, severityInputs: { ...NONE, location: 'the-moon', actor: 'insider' } }),
      a,
    ).catch((e: ServiceError) => e);
    expect((refused as ServiceError).code).toBe(status.INVALID_ARGUMENT);
    expect(fieldViolations((refused as ServiceError).metadata)).toEqual([
      expect.objectContaining({
        field: 'severity_inputs.location',
        description: expect.stringContaining('critical-systems') as unknown,
      }),
    ]);
  });

  test('records a raise as impact’s only from a Beacon process, which is served; a coordinator is refused', async ({
    intake: t,
  }) => {
    const a = await t.token({ roles: ['agency_analyst'], agencyId: 'oblenergo-a' });
    const cc = await t.token({ roles: ['coordinator'], clearance: 'RED' });
    const impact = await t.token({ roles: ['service'], subject: 'impact', clearance: 'RED' });
    const { incident } = await rpc(t, 'submitReport', report({ ...GRID, severityInputs: OPERATOR }), a);
    const cascade = {
      incidentId: incident!.id,
      expectedVersion: 0,
      basis: intakeV1.SeverityBasis.SEVERITY_BASIS_CASCADE,
      severityInputs: { ...NONE, crossSectorDependency: 'low', potentialImpact: 'very-high' },
    };

    const refused = await rpc(t, 'updateSeverity', cascade, cc).catch((e: ServiceError) => e);
    expect((refused as ServiceError).code).toBe(status.PERMISSION_DENIED);

    const raised = await rpc(t, 'updateSeverity', cascade, impact);
    expect(raised.incident!.severityInputs).toMatchObject({
      ...GIVEN,
      crossSectorDependency: 'low',
      potentialImpact: 'very-high',
    });
    // The operator's 0.519, the cascade's 0.16 + 0.12·1/3: Severe.
    expect(raised.incident!.severity).toEqual({ score: 72, level: 4, levelName: 'severe' });
    expect(raised.incident!.severityOrigins!.potentialImpact).toMatchObject({ source: IMPACT, agencyId: '' });
    expect(raised.incident!.severityOrigins!.functionalImpact).toMatchObject({ source: REPORTER });

    // The cascade never lowers, and the inputs it does not inform are not read.
    const again = await rpc(
      t,
      'updateSeverity',
      { ...cascade, severityInputs: { ...NONE, functionalImpact: 'none', potentialImpact: 'low' } },
      impact,
    );
    expect(again.incident!.severityInputs).toEqual(raised.incident!.severityInputs);
  });
});
