import { status, type ServiceError } from '@grpc/grpc-js';
import { describe, expect } from 'vitest';
import { NCISS_BASELINE } from '@beacon/domain';
import type { impactV1 } from '@beacon/proto';
import { test as base, waitFor } from '@beacon/testkit';
import { asset, dependency, impactCaller, intakeCaller, startTestStack, type TestStack } from './harness.js';

const test = base.extend('stack', async ({ infra, names }, { onCleanup }): Promise<TestStack> => {
  const stack = await startTestStack(infra, names);
  onCleanup(() => stack.stop());
  return stack;
});

const row = (value: impactV1.Asset | impactV1.Dependency): impactV1.ImportRow =>
  'operatorId' in value ? { row: { $case: 'asset', value } } : { row: { $case: 'dependency', value } };

/** The grid (GREEN) powers water and a telecom exchange; the AMBER bank needs telecoms. */
const REGION: impactV1.ImportRow[] = [
  row(asset('grid', { populationServed: 100_000 })),
  row(asset('water', { operatorId: 'op-water', sector: 'water-and-wastewater', populationServed: 50_000 })),
  row(asset('telecom', { operatorId: 'op-tel', sector: 'communications', populationServed: 80_000 })),
  row(
    asset('bank', { operatorId: 'op-bank', sector: 'financial-services', populationServed: 30_000, tlp: 3 }),
  ),
  row(asset('bank-branch', { operatorId: 'op-bank', sector: 'financial-services', populationServed: 5_000 })),
  row(dependency('water', 'grid', { timeToImpactHours: 2 })),
  row(dependency('telecom', 'grid', { timeToImpactHours: 0, backupHours: 8 })),
  row(dependency('bank', 'telecom', { kind: 'communications', timeToImpactHours: 1, degradation: 0.8 })),
];

/** A refusal as a caller sees it: status and message. */
const refusal = (call: Promise<unknown>) =>
  call.then(
    () => 'allowed',
    (e: unknown) => [(e as ServiceError).code, (e as ServiceError).details],
  );

const ids = (a: impactV1.Assessment | undefined) => ({
  affected: a?.affectedAssets.map((x) => x.assetId),
  top: a?.topImpacts.map((i) => i.assetId).sort(),
  paths: [...new Set(a?.topImpacts.flatMap((i) => i.criticalPath.map((h) => h.assetId)))].sort(),
  operators: a?.byOperator.map((x) => x.key).sort(),
});

describe('clearance bounds every role in impact', () => {
  test('a coordinator cleared below an assessment’s label gets it without the assets above its clearance, and says how many; one cleared for it gets them all', async ({
    stack: t,
  }) => {
    const red = await t.token({ roles: ['coordinator'], clearance: 'RED' });
    expect(
      await impactCaller(t.impactClient, red)('importRegistry', { rows: REGION, firstRow: 1 }),
    ).toMatchObject({ errors: [] });
    const { incident } = await intakeCaller(t.intakeClient, red)('openIncident', {
      title: 'Grid outage',
      tlp: 2, // GREEN
      classification: { rsitClass: 'availability', rsitType: 'outage' },
      sectors: ['energy'],
      jurisdictions: ['DE-BY'],
      observables: [],
      severityInputs: { ...NCISS_BASELINE },
      affectedAssets: [
        { assetId: 'grid', loss: 1 },
        { assetId: 'bank', loss: 1 },
      ],
      awareAt: new Date(Date.now() - 3_600_000),
    });
    const assessmentId = `incident-${incident!.id}`;
    const as = async (clearance: 'CLEAR' | 'GREEN' | 'AMBER') =>
      impactCaller(t.impactClient, await t.token({ roles: ['coordinator'], clearance }));
    const amber = await as('AMBER');
    const whole = await waitFor(() => amber('getAssessment', { assessmentId }), {
      what: 'the automatic assessment',
      timeoutMs: 15_000,
      intervalMs: 50,
    });
    expect(whole.assessment).toMatchObject({
      tlp: 3, // AMBER: the bank's label, more restrictive than the GREEN incident's
      withheldAssets: 0,
      impactedAssets: 4,
      // grid 100k + water 50k + telecom 80k + bank 30k
      populationAffected: '260000',
    });
    expect(ids(whole.assessment)).toEqual({
      affected: ['grid', 'bank'],
      top: ['bank', 'grid', 'telecom', 'water'],
      paths: ['bank', 'grid', 'telecom', 'water'],
      operators: ['op-bank', 'op-grid', 'op-tel', 'op-water'],
    });

    // GREEN: the same assessment without the bank, every figure over the assets shown
    const green = await as('GREEN');
    const shown = (await green('getAssessment', { assessmentId })).assessment;
    expect(shown).toMatchObject({
      tlp: 2,
      withheldAssets: 1,
      impactedAssets: 3,
      populationAffected: '230000',
    });
    expect(ids(shown)).toEqual({
      affected: ['grid'],
      top: ['grid', 'telecom', 'water'],
      paths: ['grid', 'telecom', 'water'],
      operators: ['op-grid', 'op-tel', 'op-water'],
    });
    expect(shown!.bySector.map((s) => s.key)).not.toContain('financial-services');
    expect(shown!.populationOverTime.at(-1)?.population).toBe('230000');

    // the same through the public REST door
    const rest = await fetch(`${t.http}/v1/assessments/${assessmentId}`, {
      headers: { authorization: `Bearer ${await t.token({ roles: ['coordinator'], clearance: 'GREEN' })}` },
    });
    expect(rest.status).toBe(200);
    const body = (await rest.json()) as {
      assessment: { withheldAssets: number; topImpacts: { assetId: string }[] };
    };
    expect(body.assessment.withheldAssets).toBe(1);
    expect(body.assessment.topImpacts.map((i) => i.assetId)).not.toContain('bank');

    // CLEAR: the GREEN incident's assessment is above it, and answers as a missing one does
    const clear = await as('CLEAR');
    expect(await refusal(clear('getAssessment', { assessmentId }))).toEqual(
      await refusal(clear('getAssessment', { assessmentId: 'incident-inc_nosuch' })).then((r) => [
        r[0],
        (r[1] as string).replace('inc_nosuch', incident!.id),
      ]),
    );
    expect((await refusal(clear('getAssessment', { assessmentId })))[0]).toBe(status.NOT_FOUND);

    // a what-if by the GREEN coordinator naming the bank treats it as unknown, like a made-up id
    const whatIf = (
      await green('assessImpact', {
        incidentId: '',
        affectedAssets: [
          { assetId: 'bank', loss: 1 },
          { assetId: 'atlantis', loss: 1 },
        ],
        horizonHours: 0,
      })
    ).assessment;
    expect(whatIf).toMatchObject({
      unknownAssetIds: ['bank', 'atlantis'],
      impactedAssets: 0,
      withheldAssets: 0,
    });
    // while the grid it may see is assessed, the bank it impacts left out and counted
    const fromGrid = (
      await green('assessImpact', {
        incidentId: '',
        affectedAssets: [{ assetId: 'grid', loss: 1 }],
        horizonHours: 0,
      })
    ).assessment;
    expect(fromGrid).toMatchObject({ impactedAssets: 3, withheldAssets: 1, tlp: 2 });

    // Naming assets for the incident would replace its assessment for everyone: the GREEN
    // coordinator, not cleared for the whole of it, gets its result unstored, the bank (hidden)
    // answered as a made-up asset is
    const renamed = async (assetId: string) =>
      (
        await green('assessImpact', {
          incidentId: incident!.id,
          affectedAssets: [{ assetId, loss: 1 }],
          horizonHours: 0,
        })
      ).assessment!;
    const [hidden, missing] = [await renamed('bank'), await renamed('atlantis')];
    expect(hidden).toMatchObject({
      unknownAssetIds: ['bank'],
      impactedAssets: 0,
      revision: whole.assessment!.revision,
    });
    const normalise = (a: impactV1.Assessment, id: string) =>
      JSON.stringify({ ...a, assessedAt: undefined }).replaceAll(`"${id}"`, '"X"');
    expect(normalise(hidden, 'bank')).toBe(normalise(missing, 'atlantis'));
    const kept = (await amber('getAssessment', { assessmentId })).assessment;
    expect(kept).toMatchObject({
      revision: whole.assessment!.revision,
      impactedAssets: 4,
      withheldAssets: 0,
    });
  });

  test('an operator asking about another operator’s asset gets exactly the answer for a missing one on every call, while it is served its own', async ({
    stack: t,
  }) => {
    const coordinator = impactCaller(
      t.impactClient,
      await t.token({ roles: ['coordinator'], clearance: 'RED' }),
    );
    await coordinator('importRegistry', { rows: REGION, firstRow: 1 });
    const bankAdmin = impactCaller(
      t.impactClient,
      await t.token({ roles: ['agency_admin'], agencyId: 'op-bank', clearance: 'AMBER' }),
    );

    // served: its own assets, and dependencies among them
    expect((await bankAdmin('getAsset', { assetId: 'bank' })).asset?.id).toBe('bank');
    await bankAdmin('putDependency', { dependency: dependency('bank', 'bank-branch', { kind: 'finance' }) });
    const own = await bankAdmin('getAsset', { assetId: 'bank' });
    // the bank's need of op-tel's exchange is not op-bank's to see; that one is left out is said
    expect(own.dependencies.map((d) => d.providerId)).toEqual(['bank-branch']);
    expect(own.withheldDependencies).toBe(1);

    const probes: [string, (id: string) => Promise<unknown>][] = [
      ['getAsset', (id) => bankAdmin('getAsset', { assetId: id })],
      ['deleteAsset', (id) => bankAdmin('deleteAsset', { assetId: id })],
      [
        'putAsset over it',
        (id) =>
          bankAdmin('putAsset', {
            asset: asset(id, { operatorId: 'op-bank', sector: 'financial-services' }),
            expectedVersion: 1,
          }),
      ],
      ['depend on it', (id) => bankAdmin('putDependency', { dependency: dependency('bank', id) })],
      ['make it depend', (id) => bankAdmin('putDependency', { dependency: dependency(id, 'bank') })],
      [
        'delete its dependency',
        (id) => bankAdmin('deleteDependency', { dependentId: id, providerId: 'grid', kind: 'power' }),
      ],
      [
        'delete a dependency on it',
        (id) =>
          bankAdmin('deleteDependency', { dependentId: 'bank', providerId: id, kind: 'communications' }),
      ],
      [
        'import a dependency on it',
        (id) => bankAdmin('importRegistry', { rows: [row(dependency('bank', id))], firstRow: 1 }),
      ],
      [
        'assess it',
        (id) =>
          bankAdmin('assessImpact', {
            incidentId: '',
            affectedAssets: [{ assetId: id, loss: 1 }],
            horizonHours: 0,
          }),
      ],
    ];
    for (const [what, probe] of probes) {
      const hidden = await refusal(probe('telecom'));
      const missing = await refusal(probe('nowhere'));
      const normalise = (r: unknown) =>
        JSON.stringify(r).replaceAll('telecom', 'X').replaceAll('nowhere', 'X');
      expect(normalise(hidden), what).toBe(normalise(missing));
    }
    // the operator's refusals did not change what the coordinator sees
    expect(
      (await coordinator('getAsset', { assetId: 'telecom' })).dependencies.map((d) => d.providerId),
    ).toEqual(['grid']);
    expect(
      (await coordinator('getAsset', { assetId: 'bank' })).dependencies.map((d) => d.providerId),
    ).toEqual(['bank-branch', 'telecom']);
  });
});
