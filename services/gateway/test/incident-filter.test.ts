import { Metadata, status, type ServiceError } from '@grpc/grpc-js';
import { describe, expect } from 'vitest';
import {
  NCISS_BASELINE,
  NCISS_INPUTS,
  scoreSeverity,
  type NcissInput,
  type NcissInputs,
} from '@beacon/domain';
import { fieldViolations } from '@beacon/platform';
import { intakeV1 } from '@beacon/proto';
import { test as base } from '@beacon/testkit';
import { http, reportJson, startTestStack, type TestStack } from './harness.js';

/**
 * Finding incidents through the gateway (issue 21, point 5): AIP-160 filters and AIP-132
 * orders on ListIncidents, over REST and gRPC, against the real intake service and store.
 */

interface Seeded {
  readonly stack: TestStack;
  readonly coordinator: string;
  /** Incident ids by the letter each scenario names them with. */
  readonly id: Readonly<Record<string, string>>;
  /** Each incident's openedAt as the API returned it. */
  readonly openedAt: Readonly<Record<string, string>>;
  /** By id. */
  readonly letter: Readonly<Record<string, string>>;
}

/** Inputs that score exactly `level`, raising one category one step at a time from the baseline. */
function inputsForLevel(level: number): NcissInputs {
  const inputs: Record<string, string> = { ...NCISS_BASELINE };
  for (;;) {
    if (scoreSeverity(inputs as NcissInputs).level >= level) return inputs as NcissInputs;
    const raisable = (Object.keys(NCISS_INPUTS) as NcissInput[]).find((name) => {
      const scale: readonly string[] = NCISS_INPUTS[name];
      return scale.indexOf(inputs[name]!) < scale.length - 1;
    })!;
    const scale: readonly string[] = NCISS_INPUTS[raisable];
    inputs[raisable] = scale[scale.indexOf(inputs[raisable]!) + 1]!;
  }
}

const OPENED = [
  // letter, title, tlp, class/type, sectors, jurisdictions, level
  ['A', 'Pipeline ransomware', 'AMBER', ['malicious-code', 'infected-system'], ['energy'], ['DE-BY'], 3],
  [
    'B',
    'Satellite modem wiper',
    'GREEN',
    ['availability', 'sabotage'],
    ['communications', 'energy'],
    ['DE', 'UA'],
    5,
  ],
  [
    'C',
    'Health service ransom note',
    'RED',
    ['intrusions', 'system-compromise'],
    ['healthcare-and-public-health'],
    ['GB'],
    2,
  ],
  ['D', 'Grid outage', 'AMBER', ['availability', 'outage'], ['energy'], ['FR'], 4],
  ['E', 'Water utility phishing', 'CLEAR', ['fraud', 'phishing'], ['water-and-wastewater'], ['DE'], 1],
] as const;

const test = base.extend('seeded', async ({ infra, names }, { onCleanup }): Promise<Seeded> => {
  const stack = await startTestStack(infra, names);
  onCleanup(() => stack.stop());
  const coordinator = await stack.token({ roles: ['coordinator'], clearance: 'RED' });
  const id: Record<string, string> = {};
  const openedAt: Record<string, string> = {};
  const keep = (letter: string, incident: unknown) => {
    const { id: incidentId, openedAt: at } = incident as { id: string; openedAt: string };
    id[letter] = incidentId;
    openedAt[letter] = at;
  };
  // One at a time, so each is opened after the one before.
  for (const [letter, title, tlp, [rsitClass, rsitType], sectors, jurisdictions, level] of OPENED) {
    const opened = await http(stack, 'POST', '/v1/incidents', {
      token: coordinator,
      body: {
        title,
        tlp: `TLP_${tlp}`,
        classification: { rsitClass, rsitType },
        sectors,
        jurisdictions,
        severityInputs: inputsForLevel(level),
        awareAt: new Date(Date.now() - 3_600_000).toISOString(),
      },
    });
    expect(opened.status, JSON.stringify(opened.body)).toBe(201);
    expect(opened.body['incident']).toMatchObject({ severity: { level } });
    keep(letter, opened.body['incident']);
  }
  // Two opened by agencies' reports: their source agencies are named recipients.
  for (const [letter, agencyId, title, jurisdictions] of [
    ['F', 'cert-fr', 'Energy supplier ransomware', ['DE-BY']],
    ['G', 'cert-de', 'German grid ransomware', ['DE']],
  ] as const) {
    const token = await stack.token({ roles: ['agency_analyst'], agencyId, clearance: 'AMBER' });
    const filed = await http(stack, 'POST', '/v1/reports', {
      token,
      body: reportJson({
        title,
        tlp: 'TLP_AMBER',
        classification: { rsitClass: 'malicious-code', rsitType: 'infected-system' },
        sectors: ['energy'],
        jurisdictions,
        observables: [{ type: 'url', value: `https://${letter.toLowerCase()}.example/payload` }],
      }),
    });
    expect(filed.status, JSON.stringify(filed.body)).toBe(201);
    keep(letter, filed.body['incident']);
  }
  // cert-fr is engaged on D; A moves to triage, so it is the one updated after everything opened.
  const assigned = await http(stack, 'POST', `/v1/incidents/${id['D']!}:assignAgency`, {
    token: coordinator,
    body: { agencyId: 'cert-fr', expectedVersion: 0 },
  });
  expect(assigned.status).toBe(200);
  const moved = await http(stack, 'POST', `/v1/incidents/${id['A']!}:transition`, {
    token: coordinator,
    body: { toStatus: 'INCIDENT_STATUS_TRIAGE', expectedVersion: 0 },
  });
  expect(moved.status).toBe(200);
  const letter = Object.fromEntries(Object.entries(id).map(([l, i]) => [i, l]));
  return { stack, coordinator, id, openedAt, letter };
});

/** The letters of the incidents one REST list answers, and its next page token. */
async function list(
  seeded: Seeded,
  query: Record<string, string>,
  token = seeded.coordinator,
): Promise<{ letters: string[]; next: string | undefined }> {
  const response = await http(seeded.stack, 'GET', `/v1/incidents?${new URLSearchParams(query).toString()}`, {
    token,
  });
  expect(response.status, JSON.stringify(response.body)).toBe(200);
  const incidents = (response.body['incidents'] ?? []) as { id: string }[];
  return {
    letters: incidents.map((i) => seeded.letter[i.id] ?? `unseeded ${i.id}`),
    next: response.body['nextPageToken'] as string | undefined,
  };
}

const letters = async (seeded: Seeded, filter: string, token?: string) =>
  (await list(seeded, { filter, pageSize: '100' }, token)).letters;

describe('ListIncidents with a filter', () => {
  test('selects by sector, jurisdiction (a country holds its subdivisions), level, label and class', async ({
    seeded,
  }) => {
    // Newest first unless asked otherwise.
    expect(await letters(seeded, 'sectors:"energy" AND jurisdictions:"DE" AND nciss_level >= 3')).toEqual([
      'B',
      'A',
    ]);
    expect(await letters(seeded, 'jurisdictions:"DE"')).toEqual(['G', 'F', 'E', 'B', 'A']);
    expect(await letters(seeded, 'jurisdictions:"DE-BY"')).toEqual(['F', 'A']);
    expect(await letters(seeded, 'jurisdictions:"de-by" OR jurisdictions:"UA"')).toEqual(['F', 'B', 'A']);
    expect(await letters(seeded, 'nciss_level >= 4')).toEqual(['D', 'B']);
    expect(await letters(seeded, 'nciss_level < 2')).toEqual(['G', 'F', 'E']);
    expect(await letters(seeded, 'severity.level = high')).toEqual(['A']);
    expect(await letters(seeded, 'nciss_level != 0 AND nciss_level <= 2')).toEqual(['E', 'C']);
    expect(await letters(seeded, 'label >= "AMBER+STRICT"')).toEqual(['C']);
    expect(await letters(seeded, 'tlp = AMBER AND sectors:"energy"')).toEqual(['G', 'F', 'D', 'A']);
    expect(await letters(seeded, 'rsit_class = availability')).toEqual(['D', 'B']);
    expect(await letters(seeded, 'status = triage')).toEqual(['A']);
  });

  test('bounds opened and updated times, finds title text, and combines with OR, NOT and parentheses', async ({
    seeded,
  }) => {
    const { openedAt } = seeded;
    expect(
      await letters(seeded, `opened_at > "${openedAt['A']!}" AND opened_at <= "${openedAt['D']!}"`),
    ).toEqual(['D', 'C', 'B']);
    expect(await letters(seeded, `opened_at < "${openedAt['B']!}"`)).toEqual(['A']);
    // D was engaged and A moved to triage after the last incident was opened.
    expect(await letters(seeded, `updated_at > "${openedAt['G']!}"`)).toEqual(['D', 'A']);
    expect(await letters(seeded, 'title:"RANSOM"')).toEqual(['G', 'F', 'C', 'A']);
    expect(await letters(seeded, "title:'modem wiper'")).toEqual(['B']);
    expect(await letters(seeded, 'label = RED OR rsit_class = fraud')).toEqual(['E', 'C']);
    expect(await letters(seeded, 'NOT sectors:"energy"')).toEqual(['E', 'C']);
    expect(await letters(seeded, '-jurisdictions:"DE" AND sectors:"energy"')).toEqual(['D']);
    expect(await letters(seeded, '(title:"ransom" OR title:"wiper") AND NOT jurisdictions:"DE-BY"')).toEqual([
      'G',
      'C',
      'B',
    ]);
    // OR binds tighter than AND (AIP-160): this is A AND (B OR C), not (A AND B) OR C.
    expect(await letters(seeded, 'nciss_level = 5 AND label = GREEN OR label = RED')).toEqual(['B']);
  });

  test('is published in the OpenAPI document with filter and orderBy query parameters', async ({
    seeded,
  }) => {
    const doc = await http(seeded.stack, 'GET', '/openapi.json');
    const operation = (
      doc.body['paths'] as Record<string, Record<string, { parameters: { name: string }[] }>>
    )['/v1/incidents']!['get']!;
    expect(operation.parameters.map((p) => p.name)).toEqual([
      'pageSize',
      'pageToken',
      'status',
      'filter',
      'orderBy',
    ]);
  });

  test('keeps the status field, alone and with a filter', async ({ seeded }) => {
    const byStatus = (status: string, filter = '') => list(seeded, { status, filter, pageSize: '100' });
    expect((await byStatus('INCIDENT_STATUS_TRIAGE')).letters).toEqual(['A']);
    expect((await byStatus('INCIDENT_STATUS_REPORTED', 'sectors:"energy"')).letters).toEqual([
      'G',
      'F',
      'D',
      'B',
    ]);
  });

  test('orders by level, then opening, page by page; a token serves only its own question', async ({
    seeded,
  }) => {
    const query = { filter: 'nciss_level >= 0', orderBy: 'nciss_level desc, opened_at', pageSize: '2' };
    const pages: string[][] = [];
    let pageToken: string | undefined;
    do {
      const page = await list(seeded, { ...query, ...(pageToken ? { pageToken } : {}) });
      pages.push(page.letters);
      pageToken = page.next;
    } while (pageToken && pages.length < 10);
    expect(pages).toEqual([['B', 'D'], ['A', 'C'], ['E', 'F'], ['G']]);
    // The proto field name is accepted too, as the JSON mapping asks.
    expect((await list(seeded, { order_by: 'label desc, nciss_score desc', pageSize: '3' })).letters).toEqual(
      ['C', 'D', 'A'],
    );

    const first = await list(seeded, query);
    const reused = await http(
      seeded.stack,
      'GET',
      `/v1/incidents?${new URLSearchParams({ ...query, filter: 'nciss_level >= 1', pageToken: first.next! }).toString()}`,
      { token: seeded.coordinator },
    );
    expect(reused.status).toBe(400);
    expect(reused.body['violations']).toEqual([
      {
        field: 'page_token',
        description: 'the page token was issued for another filter, order_by or status',
        reason: 'INVALID_PAGE_TOKEN',
      },
    ]);
  });

  test('refuses a malformed filter or order with 400 naming the position, over REST and gRPC', async ({
    seeded,
  }) => {
    const rest = (query: Record<string, string>) =>
      http(seeded.stack, 'GET', `/v1/incidents?${new URLSearchParams(query).toString()}`, {
        token: seeded.coordinator,
      });
    const bad = await rest({ filter: 'sectors:"energy" AND nciss_lvl >= 3' });
    expect(bad.status).toBe(400);
    expect(bad.headers.get('content-type')).toBe('application/problem+json');
    expect(bad.body).toMatchObject({
      grpcStatus: 'INVALID_ARGUMENT',
      type: 'urn:beacon:problem:invalid-argument',
    });
    const violations = (body: Record<string, unknown>) =>
      body['violations'] as { field: string; description: string; reason: string }[];
    expect(violations(bad.body)).toHaveLength(1);
    expect(violations(bad.body)[0]).toMatchObject({ field: 'filter', reason: 'INVALID_FILTER' });
    expect(violations(bad.body)[0]!.description).toMatch(
      /^position 22: expected a field \(one of status, .*\), found "nciss_lvl"$/,
    );
    const unclosed = await rest({ filter: '(sectors:"energy" OR label = RED' });
    expect(unclosed.body['violations']).toEqual([
      {
        field: 'filter',
        description: 'position 33: expected ")" to close the "(" at position 1, found the end of the filter',
        reason: 'INVALID_FILTER',
      },
    ]);
    const both = await rest({ filter: 'nciss_level >= 9', orderBy: 'nciss_level sideways' });
    expect(both.status).toBe(400);
    expect(violations(both.body)[0]!.description).toMatch(/^position 16: expected an NCISS level/);
    expect(violations(both.body).map((v) => v.field)).toEqual(['filter', 'order_by']);
    expect(violations(both.body)[1]).toEqual({
      field: 'order_by',
      description: 'position 13: expected "asc", "desc", "," or the end, found "sideways"',
      reason: 'INVALID_ORDER_BY',
    });
    // The sector the issue tried as a query parameter is still no field of the request.
    expect((await rest({ sector: 'energy' })).status).toBe(400);

    const metadata = new Metadata();
    metadata.set('authorization', `Bearer ${seeded.coordinator}`);
    const error = await new Promise<ServiceError>((resolve, reject) =>
      seeded.stack.grpc.listIncidents(
        intakeV1.ListIncidentsRequest.fromPartial({ filter: 'title:"ransom" AND' }),
        metadata,
        (e) => (e ? resolve(e) : reject(new Error('the malformed filter was accepted'))),
      ),
    );
    expect(error.code).toBe(status.INVALID_ARGUMENT);
    expect(fieldViolations(error.metadata)).toEqual([
      {
        field: 'filter',
        description: 'position 19: expected a field name, "(" or NOT, found the end of the filter',
        reason: 'INVALID_FILTER',
      },
    ]);
  });

  test('an agency never gets an incident outside its read scope, whatever the filter', async ({ seeded }) => {
    const { stack } = seeded;
    // cert-fr reads the community labels (B GREEN, E CLEAR), its own report's F and D it is engaged on.
    const certFr = await stack.token({ roles: ['agency_analyst'], agencyId: 'cert-fr', clearance: 'AMBER' });
    const certDe = await stack.token({ roles: ['agency_analyst'], agencyId: 'cert-de', clearance: 'AMBER' });
    const readable = ['F', 'E', 'D', 'B'];
    const filters = [
      '',
      'label = RED OR NOT label = RED',
      'sectors:"energy" OR NOT sectors:"energy"',
      'label >= AMBER',
      'nciss_level >= 0',
      'title:"ransom"',
      'jurisdictions:"DE"',
      'status = reported OR status = triage',
    ];
    for (const filter of filters) {
      const seen = await letters(seeded, filter, certFr);
      const all = await letters(seeded, filter);
      // Exactly what the coordinator gets for the filter, less what cert-fr may not read.
      expect(seen, filter).toEqual(all.filter((l) => readable.includes(l)));
    }
    // The legitimate callers are served what the agency is not.
    expect(await letters(seeded, 'title:"ransom"', certFr)).toEqual(['F']);
    expect(await letters(seeded, 'title:"ransom"')).toEqual(['G', 'F', 'C', 'A']);
    expect(await letters(seeded, 'title:"ransom"', certDe)).toEqual(['G']);
    expect(await letters(seeded, 'jurisdictions:"DE"', certFr)).toEqual(['F', 'E', 'B']);
    // Ordered and paged, still only what it may read.
    const paged: string[] = [];
    let pageToken: string | undefined;
    do {
      const page = await list(
        seeded,
        { orderBy: 'label desc, opened_at desc', pageSize: '1', ...(pageToken ? { pageToken } : {}) },
        certFr,
      );
      paged.push(...page.letters);
      pageToken = page.next;
    } while (pageToken && paged.length < 10);
    expect(paged).toEqual(['F', 'D', 'B', 'E']);
  });
});
