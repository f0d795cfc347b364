import { describe, expect, it } from 'vitest';
import { protoFieldName, RequestValidator, type FieldViolation } from '@beacon/platform';
import { FIELD_RULES } from '@beacon/proto';
import openapi from './gen/openapi.json' with { type: 'json' };
import { RequestSchemas } from './rest/schemas.js';

interface Rule {
  readonly maxLength?: number;
  readonly required?: boolean;
  readonly multiline?: boolean;
  readonly pattern?: RegExp;
  readonly what?: string;
  readonly maxItems?: number;
  readonly minimum?: number;
  readonly maximum?: number;
  readonly optional?: boolean;
}

const schemas = new RequestSchemas(openapi);
const fields = Object.entries(FIELD_RULES).flatMap(([pkg, messages]) =>
  Object.entries(messages).flatMap(([message, rules]) =>
    Object.entries(rules as Record<string, Rule>).map(([field, rule]) => ({
      message: `${pkg}.${message}`,
      field,
      rule,
    })),
  ),
);

/** Ids around each shape's edges; every shape has a valid one here. */
const IDS = [
  'inc_a',
  `inc_${'a'.repeat(60)}`,
  `inc_${'a'.repeat(61)}`,
  'inc_',
  'INC_A',
  'agency-1',
  'a'.repeat(64),
  'a'.repeat(65),
  '-agency',
  '',
  '{"$ne":null}',
  // The victims service's shapes.
  `vc_${'0a'.repeat(16)}`,
  `vc_${'0a'.repeat(16)}0`,
  `vc_${'0A'.repeat(16)}`,
  `inc_${'a'.repeat(64)}`,
  'inc_a-1',
  'ref-1',
  'ref-12345',
  'ci-9999',
  'ci-',
  'a'.repeat(63),
  'agency_1',
  'AZ-2026/17:x.y_z',
  'AZ 17',
];

/** What the service's validator says of the field's value, by the same rule. */
function service(field: string, rule: Rule, value: unknown): FieldViolation[] {
  const v = new RequestValidator();
  const name = protoFieldName(field);
  const { pattern, what } = rule;
  if (rule.maxLength !== undefined) v.text(name, value as string, { ...rule, maxLength: rule.maxLength });
  else if (pattern && what && rule.maxItems !== undefined)
    v.ids(name, value as string[], { pattern, what, maxItems: rule.maxItems });
  else if (pattern && what) v.id(name, value as string, { ...rule, pattern, what });
  else if (rule.maxItems !== undefined) v.atMost(name, value as unknown[], { maxItems: rule.maxItems });
  else v.pageSize(value as number, { max: rule.maximum!, fallback: 1 });
  return v.violations;
}

/** What the gateway says of the field's value, from the OpenAPI document. */
function gateway(message: string, field: string, value: unknown): FieldViolation[] {
  const name = protoFieldName(field);
  return schemas
    .violations(message, value === undefined ? {} : { [field]: value })
    .filter((v) => v.field === name || v.field.startsWith(`${name}[`));
}

/**
 * Values of the field: `exact` ones (at and one past each limit, and ids, where both count
 * alike) must be answered alike; `loose` ones (padding, absence) may be left to the service.
 */
function samples(message: string, field: string, rule: Rule): { exact: unknown[]; loose: unknown[] } {
  if (rule.maxLength !== undefined) {
    const max = rule.maxLength;
    return {
      exact: ['x'.repeat(max), 'x'.repeat(max + 1), 'x'],
      loose: [` ${'x'.repeat(max)}\n `, '', undefined],
    };
  }
  if (rule.pattern && rule.maxItems === undefined) {
    // Refusals alone would not show that the gateway keeps what the service takes.
    const valid = IDS.some((id) => rule.pattern!.test(id));
    expect(valid, `a valid ${rule.what} among the samples`).toBe(true);
    return { exact: IDS, loose: [] };
  }
  if (rule.maxItems !== undefined) {
    const id = rule.pattern && IDS.find((candidate) => rule.pattern!.test(candidate));
    // A list of strings, or of messages (`{}` is the message with every field at its default).
    const element = id ?? (gateway(message, field, ['x']).length === 0 ? 'x' : {});
    const ok = Array.from({ length: rule.maxItems }, () => element);
    return { exact: [ok, [...ok, element], ...(rule.pattern ? [['inc_?', ...IDS]] : [])], loose: [] };
  }
  return { exact: [rule.minimum! - 1, rule.minimum, rule.maximum, rule.maximum! + 1], loose: [] };
}

describe('the limits declared in proto/', () => {
  it('are there to check', () => {
    expect(fields.length).toBeGreaterThan(20);
  });

  it.each(fields.map((f) => [`${f.message}.${f.field}`, f] as const))(
    '%s: the gateway and the service answer alike at and past the limit',
    (_, { message, field, rule }) => {
      const { exact, loose } = samples(message, field, rule);
      for (const value of exact) {
        expect(gateway(message, field, value), JSON.stringify(value)).toEqual(service(field, rule, value));
      }
      for (const value of loose) {
        const atGateway = gateway(message, field, value);
        const atService = service(field, rule, value ?? '');
        // Never stricter than the service; where the gateway refuses, in the service's words.
        if (atService.length === 0) expect(atGateway, JSON.stringify(value)).toEqual([]);
        if (atGateway.length > 0) expect(atGateway).toEqual(atService.slice(0, atGateway.length));
      }
    },
  );

  it('are kept by the gateway at the limit and refused one past it, with the field named', () => {
    const report = 'beacon.intake.v1.SubmitReportRequest';
    const title = 'x'.repeat(200);
    expect(gateway(report, 'title', title)).toEqual([]);
    expect(gateway(report, 'title', `${title}x`)).toEqual([
      { field: 'title', description: 'is longer than 200 characters', reason: 'TOO_LONG' },
    ]);
    expect(gateway(report, 'title', undefined)).toEqual([
      { field: 'title', description: 'is required', reason: 'REQUIRED' },
    ]);
    expect(
      gateway(
        report,
        'sectors',
        Array.from({ length: 17 }, () => 'energy'),
      ),
    ).toEqual([{ field: 'sectors', description: 'at most 16', reason: 'TOO_MANY' }]);
    expect(gateway('beacon.intake.v1.AssignAgencyRequest', 'incidentId', 'case-1')).toEqual([
      { field: 'incident_id', description: 'is not a inc_… id', reason: 'INVALID_ID' },
    ]);
    expect(gateway('beacon.intake.v1.ListIncidentsRequest', 'pageSize', 101)).toEqual([
      { field: 'page_size', description: 'must be 0 to 100', reason: 'OUT_OF_RANGE' },
    ]);
  });

  it('let an optional id be left empty, and refuse any other value of the wrong shape', () => {
    const list = 'beacon.victims.v1.ListCasesRequest';
    expect(gateway(list, 'incidentId', '')).toEqual([]);
    expect(gateway(list, 'incidentId', 'inc_A')).toEqual([
      { field: 'incident_id', description: 'is not an incident id', reason: 'INVALID_ID' },
    ]);
    expect(gateway('beacon.victims.v1.GetCaseRequest', 'caseId', '')).toEqual([
      { field: 'case_id', description: 'is not a case id', reason: 'INVALID_ID' },
    ]);
  });

  it('leave to the service what JSON Schema counts differently: padding and astral characters', () => {
    const report = 'beacon.intake.v1.SubmitReportRequest';
    // The service trims, then counts UTF-16 units: 200 characters padded are 200.
    expect(gateway(report, 'title', `  ${'x'.repeat(200)}${' '.repeat(1_000)}`)).toEqual([]);
    // 150 emoji are 300 UTF-16 units: the service refuses them, the gateway lets them through.
    expect(gateway(report, 'title', '😀'.repeat(150))).toEqual([]);
    expect(
      service('title', FIELD_RULES['beacon.intake.v1'].SubmitReportRequest.title, '😀'.repeat(150)),
    ).toEqual([{ field: 'title', description: 'is longer than 200 characters', reason: 'TOO_LONG' }]);
  });
});
