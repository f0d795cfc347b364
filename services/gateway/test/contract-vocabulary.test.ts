/**
 * What a REST client can rely on from the published contract: fields documented as always
 * present are there at their zero value too (`severity.level` at 0), the OpenAPI document names
 * the RSIT classes and types and the NCISS categories Beacon accepts (from the domain package),
 * and a classification Beacon refuses comes back with the values that would do.
 */
import { describe, expect } from 'vitest';
import { NCISS_BASELINE, NCISS_INPUTS, RSIT, RSIT_CLASSES } from '@beacon/domain';
import { test as base } from '@beacon/testkit';
import { http, reportJson, startTestStack, type TestStack } from './harness.js';

const test = base.extend('stack', async ({ infra, names }, { onCleanup }): Promise<TestStack> => {
  const stack = await startTestStack(infra, names);
  onCleanup(() => stack.stop());
  return stack;
});

type Schemas = Record<string, { properties: Record<string, Record<string, unknown>>; required?: string[] }>;

describe('the REST contract', () => {
  test('writes severity.level at level 0, and leaves other zero values out', async ({ stack }) => {
    const cc = await stack.token({ roles: ['coordinator'], clearance: 'RED' });
    const opened = await http(stack, 'POST', '/v1/incidents', {
      token: cc,
      body: {
        title: 'Port scan against a municipal network',
        tlp: 'TLP_GREEN',
        classification: { rsitClass: 'information-gathering', rsitType: 'scanner' },
        sectors: ['government-facilities'],
        jurisdictions: ['FR'],
        severityInputs: NCISS_BASELINE,
        awareAt: new Date(Date.now() - 60_000).toISOString(),
      },
    });
    expect(opened.status).toBe(201);
    const id = (opened.body['incident'] as { id: string }).id;
    for (const answer of [opened, await http(stack, 'GET', `/v1/incidents/${id}`, { token: cc })]) {
      const incident = answer.body['incident'] as Record<string, unknown>;
      expect(incident['severity']).toEqual({ score: 1, level: 0, levelName: 'baseline' });
      // The mapping's convention holds elsewhere: an empty source agency is left out.
      expect(incident).not.toHaveProperty('sourceAgencyId');
    }
    const listed = await http(stack, 'GET', '/v1/incidents', { token: cc });
    expect((listed.body['incidents'] as { severity: unknown }[]).map((i) => i.severity)).toEqual([
      { score: 1, level: 0, levelName: 'baseline' },
    ]);
  });

  test('the OpenAPI document names the RSIT classes and types and the NCISS categories', async ({
    stack,
  }) => {
    const document = await http(stack, 'GET', '/openapi.json');
    expect(document.status).toBe(200);
    const schemas = (document.body['components'] as { schemas: Schemas }).schemas;
    const classification = schemas['beacon.common.v1.Classification']!.properties;
    expect(classification['rsitClass']!['x-beacon-values']).toEqual(RSIT_CLASSES);
    expect(classification['rsitType']!['x-beacon-values-by-class']).toEqual(RSIT);
    expect(classification['rsitType']!['description']).toContain(
      'fraud: `unauthorised-use-of-resources`, `copyright`, `masquerade`, `phishing`',
    );
    const inputs = schemas['beacon.common.v1.SeverityInputs']!.properties;
    for (const [input, categories] of Object.entries(NCISS_INPUTS)) {
      expect(inputs[input]!['x-beacon-values']).toEqual(categories);
      for (const category of categories) expect(inputs[input]!['description']).toContain(`\`${category}\``);
    }
    // And it says which fields every response carries.
    expect(schemas['beacon.common.v1.Severity']!.required).toEqual(['score', 'level']);
  });

  test('an unknown RSIT type is refused with the types of its class; an unknown class with the classes', async ({
    stack,
  }) => {
    const token = await stack.token({ roles: ['agency_analyst'], agencyId: 'cert-fr' });
    const badType = await http(stack, 'POST', '/v1/reports', {
      token,
      body: reportJson({ classification: { rsitClass: 'fraud', rsitType: 'ransomware' } }),
    });
    expect(badType.status).toBe(400);
    expect(badType.body['violations']).toEqual([
      {
        field: 'classification.rsit_type',
        description:
          'is not an RSIT type of fraud: one of unauthorised-use-of-resources, copyright, masquerade, phishing',
        reason: 'UNKNOWN_CLASSIFICATION',
      },
    ]);
    const badClass = await http(stack, 'POST', '/v1/reports', {
      token,
      body: reportJson({ classification: { rsitClass: 'ransomware', rsitType: 'phishing' } }),
    });
    expect(badClass.status).toBe(400);
    expect(badClass.body['violations']).toEqual([
      {
        field: 'classification.rsit_class',
        description: `is not an RSIT class: one of ${RSIT_CLASSES.join(', ')}`,
        reason: 'UNKNOWN_CLASSIFICATION',
      },
    ]);
    // A valid one is served.
    expect((await http(stack, 'POST', '/v1/reports', { token, body: reportJson() })).status).toBe(201);
  });
});
