import { status, type ServiceError } from '@grpc/grpc-js';
import { jetstream } from '@nats-io/jetstream';
import { describe, expect } from 'vitest';
import { NCISS_BASELINE } from '@beacon/domain';
import { fieldViolations } from '@beacon/platform';
import { eventsV1, impactV1, intakeV1 } from '@beacon/proto';
import { test as base, waitFor } from '@beacon/testkit';
import { asset, dependency, impactCaller, intakeCaller, startTestStack, type TestStack } from './harness.js';

const test = base.extend('stack', async ({ infra, names }, { onCleanup }): Promise<TestStack> => {
  const stack = await startTestStack(infra, names);
  onCleanup(() => stack.stop());
  return stack;
});

const code = (e: unknown) => (e as ServiceError).code;
const row = (value: impactV1.Asset | impactV1.Dependency): impactV1.ImportRow =>
  'operatorId' in value ? { row: { $case: 'asset', value } } : { row: { $case: 'dependency', value } };

/**
 * A small region: the grid feeds water, a hospital (72 h of generators), a telecom exchange
 * (8 h of batteries); the hospital also needs water, a bank needs telecoms, and the grid's
 * control needs telecoms too (a cycle).
 */
const REGION: impactV1.ImportRow[] = [
  row(asset('grid', { populationServed: 100_000 })),
  row(asset('water', { operatorId: 'op-water', sector: 'water-and-wastewater', populationServed: 50_000 })),
  row(
    asset('hospital', {
      operatorId: 'op-health',
      sector: 'healthcare-and-public-health',
      populationServed: 20_000,
    }),
  ),
  row(asset('telecom', { operatorId: 'op-tel', sector: 'communications', populationServed: 80_000 })),
  row(
    asset('bank', { operatorId: 'op-bank', sector: 'financial-services', populationServed: 30_000, tlp: 3 }),
  ),
  row(dependency('water', 'grid', { timeToImpactHours: 2 })),
  row(dependency('hospital', 'grid', { timeToImpactHours: 0, backupHours: 72 })),
  row(dependency('hospital', 'water', { kind: 'water', timeToImpactHours: 6, degradation: 0.5 })),
  row(dependency('telecom', 'grid', { timeToImpactHours: 0, backupHours: 8 })),
  row(dependency('bank', 'telecom', { kind: 'communications', timeToImpactHours: 1, degradation: 0.8 })),
  row(dependency('grid', 'telecom', { kind: 'communications', timeToImpactHours: 2, degradation: 0.3 })),
];

async function importRegion(t: TestStack) {
  const coordinator = impactCaller(
    t.impactClient,
    await t.token({ roles: ['coordinator'], clearance: 'RED' }),
  );
  const result = await coordinator('importRegistry', { rows: REGION, firstRow: 1 });
  expect(result).toEqual({ assetsWritten: 5, dependenciesWritten: 6, errors: [] });
  return coordinator;
}

/** What a coordinator checks first in an assessment, in plain numbers. */
function essentials(a: impactV1.Assessment | undefined) {
  return {
    impacted: a?.impactedAssets,
    population: a?.populationAffected,
    first: Object.fromEntries(a?.topImpacts.map((i) => [i.assetId, [i.firstImpactHours, i.maxLoss]]) ?? []),
    nciss: [a?.crossSectorDependency, a?.potentialImpact],
  };
}

const EXPECTED = {
  impacted: 5,
  // grid 100k + water 50k + telecom 80k + hospital 20k + bank 0.8 × 30k
  population: '274000',
  first: { grid: [0, 1], water: [2, 1], telecom: [8, 1], hospital: [8, 1], bank: [9, 0.8] },
  nciss: ['high', 'very-high'],
};

describe('impact over gRPC', () => {
  test('an incident naming an asset is assessed from its event, publishes impact.assessed and raises its NCISS inputs; a restart gives the same answer', async ({
    stack: t,
    nats,
  }) => {
    await importRegion(t);
    const cc = await t.token({ roles: ['coordinator'], clearance: 'RED' });
    const { incident } = await intakeCaller(t.intakeClient, cc)('openIncident', {
      title: 'Control-system compromise at the regional grid operator',
      tlp: 3,
      classification: { rsitClass: 'availability', rsitType: 'outage' },
      sectors: ['energy'],
      jurisdictions: ['DE-BY'],
      observables: [],
      severityInputs: { ...NCISS_BASELINE },
      affectedAssets: [{ assetId: 'grid', loss: 1 }],
      awareAt: new Date(Date.now() - 3_600_000),
    });
    const id = `incident-${incident!.id}`;
    const impact = impactCaller(t.impactClient, cc);
    const { assessment } = await waitFor(() => impact('getAssessment', { assessmentId: id }), {
      what: 'the automatic assessment',
      timeoutMs: 15_000,
      intervalMs: 50,
    });
    expect(essentials(assessment)).toEqual(EXPECTED);
    const hospital = assessment!.topImpacts.find((i) => i.assetId === 'hospital')!;
    // half its service at hour 8 through water, all of it at hour 72 when the generators stop
    expect(hospital.maxLossHours).toBe(72);
    expect(hospital.criticalPath.map((h) => [h.assetId, h.via])).toEqual([
      ['grid', ''],
      ['hospital', 'power'],
    ]);
    expect(assessment!.populationOverTime[7]?.population).toBe('150000');
    expect(assessment!.populationOverTime[8]?.population).toBe('240000');
    expect(assessment!.tlp).toBe(3); // the incident's AMBER; the AMBER bank too
    expect(assessment!.revision).toBe(1);

    // the event, once
    const events = await waitFor(
      async () => {
        const consumer = await jetstream(nats).consumers.get(t.stream);
        const found: eventsV1.Envelope[] = [];
        const pending = (await consumer.info()).num_pending;
        for await (const m of await consumer.fetch({ max_messages: pending, expires: 2_000 })) {
          found.push(eventsV1.Envelope.decode(m.data));
          if (found.length === pending) break;
        }
        const assessed = found.filter((e) => e.type === 'beacon.impact.assessed.v1');
        if (assessed.length === 0) throw new Error('no impact.assessed yet');
        return assessed;
      },
      { what: 'impact.assessed on JetStream', timeoutMs: 15_000, intervalMs: 100 },
    );
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ subject: id, incidentId: incident!.id, tlp: 3 });
    const payload = impactV1.ImpactAssessed.decode(events[0]!.data);
    expect(essentials(payload.assessment)).toEqual(EXPECTED);

    // intake now scores the cascade
    const raised = await waitFor(
      async () => {
        const { incident: now } = await intakeCaller(t.intakeClient, cc)('getIncident', {
          incidentId: incident!.id,
        });
        if (now?.severityInputs?.potentialImpact !== 'very-high') throw new Error('not raised yet');
        return now;
      },
      { what: 'raised severity inputs', timeoutMs: 15_000, intervalMs: 100 },
    );
    expect(raised.severityInputs).toMatchObject({
      crossSectorDependency: 'high',
      potentialImpact: 'very-high',
    });
    expect(raised.severity!.score).toBeGreaterThan(incident!.severity!.score);
    // Recorded as the cascade's, beside whatever the coordinator gave.
    expect(raised.severityOrigins?.potentialImpact?.source).toBe(
      intakeV1.SeverityInputSource.SEVERITY_INPUT_SOURCE_IMPACT,
    );

    // a restart rebuilds the graph from the store: the same answer, and nothing new to publish
    await t.restartImpact();
    const again = await impactCaller(t.impactClient, cc)('assessImpact', {
      incidentId: incident!.id,
      affectedAssets: [],
      horizonHours: 0,
    });
    expect(essentials(again.assessment)).toEqual(EXPECTED);
    expect(again.assessment!.revision).toBe(1);
  });

  test('an incident a report opened is assessed and raised as one a coordinator opened, its assets named by that report or a later one', async ({
    stack: t,
  }) => {
    await importRegion(t);
    const cc = await t.token({ roles: ['coordinator'], clearance: 'RED' });
    const operator = await t.token({ roles: ['agency_analyst'], agencyId: 'op-grid' });
    const water = await t.token({ roles: ['agency_analyst'], agencyId: 'op-water' });
    const report = (observable: string, affectedAssets: { assetId: string; loss: number }[]) => ({
      title: 'Control-system compromise',
      description: '',
      tlp: 2, // GREEN
      classification: { rsitClass: 'availability', rsitType: 'sabotage' },
      sectors: ['energy'],
      jurisdictions: ['DE-BY'],
      observables: [{ type: 'domain', value: observable }],
      awareAt: new Date(Date.now() - 3_600_000),
      affectedAssets,
    });
    const raised = (incidentId: string, potentialImpact: string) =>
      waitFor(
        async () => {
          const { incident } = await intakeCaller(t.intakeClient, cc)('getIncident', { incidentId });
          if (incident?.severityInputs?.potentialImpact !== potentialImpact)
            throw new Error('not raised yet');
          return incident;
        },
        { what: 'raised severity inputs', timeoutMs: 15_000, intervalMs: 100 },
      );
    const IMPACT = intakeV1.SeverityInputSource.SEVERITY_INPUT_SOURCE_IMPACT;

    // Named by the report that opens it.
    const named = await intakeCaller(t.intakeClient, operator)(
      'submitReport',
      report('c2-one.example', [{ assetId: 'grid', loss: 1 }]),
    );
    const first = await raised(named.incident!.id, 'very-high');
    expect(first.severityInputs).toMatchObject({
      crossSectorDependency: 'high',
      potentialImpact: 'very-high',
    });
    expect(first.severityOrigins?.potentialImpact?.source).toBe(IMPACT);

    // Opened without assets, named later by another agency's report that joins it.
    const bare = await intakeCaller(t.intakeClient, operator)('submitReport', report('c2-two.example', []));
    const joined = await intakeCaller(t.intakeClient, water)(
      'submitReport',
      report('c2-two.example', [{ assetId: 'water', loss: 1 }]),
    );
    expect(joined.attached).toBe(true);
    // Water 50,000 people, half the hospital's 20,000: 60,000.
    const later = await raised(bare.incident!.id, 'high');
    expect(later.affectedAssets).toEqual([{ assetId: 'water', loss: 1 }]);
    expect(later.severityInputs?.crossSectorDependency).toBe('low');
    expect(later.severityOrigins?.potentialImpact?.source).toBe(IMPACT);
  });

  test('a what-if assessment honours the horizon: within 48 h the hospital still runs on its generators', async ({
    stack: t,
  }) => {
    const coordinator = await importRegion(t);
    const { assessment } = await coordinator('assessImpact', {
      incidentId: '',
      affectedAssets: [
        { assetId: 'grid', loss: 0 },
        { assetId: 'atlantis', loss: 1 },
      ],
      horizonHours: 48,
    });
    const hospital = assessment!.topImpacts.find((i) => i.assetId === 'hospital')!;
    expect([hospital.firstImpactHours, hospital.maxLoss]).toEqual([8, 0.5]);
    expect(assessment!.unknownAssetIds).toEqual(['atlantis']);
    expect(assessment!.populationOverTime).toHaveLength(49);
  });

  test('import reports each bad row by number and field and stores the good ones; export returns what was stored', async ({
    stack: t,
  }) => {
    const coordinator = await importRegion(t);
    const result = await coordinator('importRegistry', {
      firstRow: 12,
      rows: [
        row(asset('substation-2', { populationServed: 5_000 })),
        row(asset('bad', { sector: 'spaceflight', location: { lat: 91, lon: 0 } })),
        row(dependency('substation-2', 'substation-2')),
        row(dependency('water', 'nowhere')),
        row(dependency('water', 'substation-2', { timeToImpactHours: -1 })),
        row(dependency('water', 'substation-2', { kind: 'electricity' })),
        row(dependency('hospital', 'substation-2', { backupHours: 48 })),
        { row: undefined },
      ],
    });
    expect(result.assetsWritten).toBe(1);
    expect(result.dependenciesWritten).toBe(1);
    expect(result.errors.map((e) => [e.row, e.field])).toEqual([
      [13, 'asset.sector'],
      [13, 'asset.location.lat'],
      [14, 'dependency.provider_id'],
      [15, 'dependency.provider_id'],
      [16, 'dependency.time_to_impact_hours'],
      [17, 'dependency.kind'],
      [19, 'row'],
    ]);
    expect(result.errors.find((e) => e.row === 14)?.description).toMatch(/itself/);
    expect(result.errors.find((e) => e.row === 15)?.description).toMatch(/unknown asset nowhere/);

    const rows: impactV1.ImportRow[] = [];
    let pageToken = '';
    do {
      const page = await coordinator('exportRegistry', { pageSize: 4, pageToken });
      rows.push(...page.rows);
      pageToken = page.nextPageToken;
    } while (pageToken);
    expect(
      rows
        .filter((r) => r.row?.$case === 'asset')
        .map((r) => r.row!.value)
        .map((a) => (a as impactV1.Asset).id),
    ).toEqual(['bank', 'grid', 'hospital', 'substation-2', 'telecom', 'water']);
    expect(rows.filter((r) => r.row?.$case === 'dependency')).toHaveLength(7);
  });

  test('operators see and change only their own assets; only the coordination centre assesses', async ({
    stack: t,
  }) => {
    const coordinator = await importRegion(t);
    const gridAdmin = impactCaller(
      t.impactClient,
      await t.token({ roles: ['agency_admin'], agencyId: 'op-grid' }),
    );
    const gridAnalyst = impactCaller(
      t.impactClient,
      await t.token({ roles: ['agency_analyst'], agencyId: 'op-grid' }),
    );
    const bankAdmin = impactCaller(
      t.impactClient,
      await t.token({ roles: ['agency_admin'], agencyId: 'op-bank' }),
    );
    const victims = impactCaller(
      t.impactClient,
      await t.token({ roles: ['victim_officer'], agencyId: 'help-org' }),
    );
    const greenCoordinator = impactCaller(
      t.impactClient,
      await t.token({ roles: ['coordinator'], clearance: 'GREEN' }),
    );

    expect(
      (
        await gridAnalyst('listAssets', { pageSize: 0, pageToken: '', operatorId: '', sector: '' })
      ).assets.map((a) => a.id),
    ).toEqual(['grid']);
    // the grid's need of op-tel's exchange is not op-grid's to see: left out, and counted
    expect(await gridAdmin('getAsset', { assetId: 'grid' })).toMatchObject({
      dependencies: [],
      withheldDependencies: 1,
    });
    expect(
      (await victims('listAssets', { pageSize: 0, pageToken: '', operatorId: '', sector: '' })).assets,
    ).toEqual([]);
    // the AMBER bank is beyond a GREEN-cleared reader
    expect(
      (
        await greenCoordinator('listAssets', { pageSize: 0, pageToken: '', operatorId: '', sector: '' })
      ).assets.map((a) => a.id),
    ).not.toContain('bank');
    const denied: [string, () => Promise<unknown>, status][] = [
      [
        'another operator’s asset reads as absent',
        () => gridAdmin('getAsset', { assetId: 'bank' }),
        status.NOT_FOUND,
      ],
      [
        'a GREEN reader cannot read an AMBER asset',
        () => greenCoordinator('getAsset', { assetId: 'bank' }),
        status.NOT_FOUND,
      ],
      [
        'an analyst does not change the registry',
        () => gridAnalyst('putAsset', { asset: asset('grid-2'), expectedVersion: 0 }),
        status.PERMISSION_DENIED,
      ],
      [
        'an admin cannot register for another operator',
        () => gridAdmin('putAsset', { asset: asset('x', { operatorId: 'op-bank' }), expectedVersion: 0 }),
        status.PERMISSION_DENIED,
      ],
      [
        'nor take over another operator’s asset, which reads as absent',
        () => gridAdmin('putAsset', { asset: asset('bank'), expectedVersion: 1 }),
        status.NOT_FOUND,
      ],
      [
        'nor make another operator’s asset (unknown to it) depend on its own',
        () => bankAdmin('putDependency', { dependency: dependency('grid', 'bank', { kind: 'finance' }) }),
        status.FAILED_PRECONDITION,
      ],
      [
        'nor delete another operator’s asset',
        () => gridAdmin('deleteAsset', { assetId: 'bank' }),
        status.NOT_FOUND,
      ],
      [
        'operators do not assess',
        () =>
          gridAdmin('assessImpact', {
            incidentId: '',
            affectedAssets: [{ assetId: 'grid', loss: 1 }],
            horizonHours: 0,
          }),
        status.PERMISSION_DENIED,
      ],
      [
        'nor read assessments',
        () => gridAdmin('getAssessment', { assessmentId: 'incident-inc_abc' }),
        status.PERMISSION_DENIED,
      ],
      [
        'unauthenticated',
        () => impactCaller(t.impactClient, undefined)('getAsset', { assetId: 'grid' }),
        status.UNAUTHENTICATED,
      ],
    ];
    for (const [why, call, expected] of denied) {
      await expect(
        call().then(() => 'allowed', code),
        why,
      ).resolves.toBe(expected);
    }

    // what an admin may do, it can
    const created = await bankAdmin('putAsset', {
      asset: asset('bank-dc', { operatorId: 'op-bank', sector: 'financial-services' }),
      expectedVersion: 0,
    });
    expect(created.asset?.version).toBe(1);
    // another operator's asset is, to op-bank, an unknown one: the coordination centre
    // declares dependencies across operators
    await expect(
      bankAdmin('putDependency', { dependency: dependency('bank-dc', 'grid') }).catch(code),
    ).resolves.toBe(status.FAILED_PRECONDITION);
    await coordinator('putDependency', { dependency: dependency('bank-dc', 'grid') });
    await expect(
      bankAdmin('putAsset', {
        asset: asset('bank-dc', { operatorId: 'op-bank', sector: 'financial-services' }),
        expectedVersion: 0,
      }).catch(code),
    ).resolves.toBe(status.ALREADY_EXISTS);
    await expect(
      bankAdmin('putAsset', {
        asset: asset('bank-dc', { operatorId: 'op-bank', sector: 'financial-services' }),
        expectedVersion: 7,
      }).catch(code),
    ).resolves.toBe(status.ABORTED);
    const renamed = await bankAdmin('putAsset', {
      asset: asset('bank-dc', { operatorId: 'op-bank', sector: 'financial-services', name: 'Data centre' }),
      expectedVersion: 1,
    });
    expect(renamed.asset).toMatchObject({ name: 'Data centre', version: 2 });
    expect((await bankAdmin('deleteAsset', { assetId: 'bank-dc' })).dependenciesRemoved).toBe(1);
    const after = await coordinator('assessImpact', {
      incidentId: '',
      affectedAssets: [{ assetId: 'grid', loss: 1 }],
      horizonHours: 0,
    });
    expect(after.assessment!.topImpacts.map((i) => i.assetId)).not.toContain('bank-dc');
  });

  test('bad requests are refused with field violations and change nothing', async ({ stack: t }) => {
    const coordinator = await importRegion(t);
    const refusal = async (call: Promise<unknown>) => {
      const error = (await call.then(
        () => undefined,
        (e: unknown) => e,
      )) as ServiceError;
      expect(error?.code).toBe(status.INVALID_ARGUMENT);
      return fieldViolations(error.metadata).map((v) => v.field);
    };
    expect(
      await refusal(
        coordinator('putAsset', {
          asset: asset('$where', {
            name: ' ',
            operatorId: 'Op Grid',
            jurisdiction: 'XX',
            criticality: 9,
            location: { lat: 0, lon: 200 },
          }),
          expectedVersion: -1,
        }),
      ),
    ).toEqual([
      'asset.id',
      'asset.name',
      'asset.operator_id',
      'asset.jurisdiction',
      'asset.location.lon',
      'asset.criticality',
      'expected_version',
    ]);
    expect(
      await refusal(
        coordinator('putDependency', {
          dependency: dependency('grid', 'grid', { degradation: 1.5, backupHours: -2 }),
        }),
      ),
    ).toEqual(['dependency.provider_id', 'dependency.backup_hours', 'dependency.degradation']);
    expect(
      await refusal(
        coordinator('assessImpact', {
          incidentId: 'inc_',
          affectedAssets: [{ assetId: 'grid', loss: 2 }],
          horizonHours: 1e6,
        }),
      ),
    ).toEqual(['incident_id', 'affected_assets[0].loss', 'horizon_hours']);
    expect(
      await refusal(
        coordinator('importRegistry', { rows: Array.from({ length: 1_001 }, () => REGION[0]!), firstRow: 1 }),
      ),
    ).toEqual(['rows']);
    await expect(
      coordinator('putDependency', { dependency: dependency('grid', 'nowhere') }).catch(code),
    ).resolves.toBe(status.FAILED_PRECONDITION);
    const { assets } = await coordinator('listAssets', {
      pageSize: 0,
      pageToken: '',
      operatorId: '',
      sector: '',
    });
    expect(assets.map((a) => a.id)).toEqual(['bank', 'grid', 'hospital', 'telecom', 'water']);
    expect((await coordinator('getAsset', { assetId: 'grid' })).dependencies).toHaveLength(1);
  });
});
