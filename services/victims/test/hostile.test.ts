import { Client, credentials, Metadata, status, type ServiceError } from '@grpc/grpc-js';
import { describe, expect } from 'vitest';
import { victimsV1 } from '@beacon/proto';
import { test as base } from '@beacon/testkit';
import { consent, failure, newCase, organisation, startVictimsStack, type VictimsStack } from './harness.js';

const test = base.extend('stack', async ({ infra, names }, { onCleanup }): Promise<VictimsStack> => {
  const stack = await startVictimsStack(infra, names);
  onCleanup(() => stack.stop());
  return stack;
});

const { ConsentPurpose, PaymentMethod } = victimsV1;
const loss = (amountMinor: string, currency = 'EUR', paidAt?: Date): victimsV1.Need => ({
  detail: {
    $case: 'financialLoss',
    value: {
      amountMinor,
      currency,
      paymentMethod: PaymentMethod.PAYMENT_METHOD_CARD,
      ...(paidAt ? { paidAt } : {}),
    },
  },
});

describe('hostile and malformed requests', () => {
  test('are refused with their bad fields named at once (the first 20), and nothing of them is written', async ({
    stack: t,
    mongoClient,
  }) => {
    const officer = await t.call(['victim_officer'], 'vs-bayern');
    const db = mongoClient.db(t.db);
    const written = async () => ({
      cases: await db.collection('cases').countDocuments(),
      audit: await db.collection('audit').countDocuments(),
    });

    // Bytes that are not a protobuf message at all.
    const raw = new Client(`127.0.0.1:${t.victims.port}`, credentials.createInsecure());
    const metadata = new Metadata();
    metadata.set('authorization', `Bearer ${await t.token(['victim_officer'], 'vs-bayern')}`);
    const garbage = await new Promise<ServiceError | null>((resolve) =>
      raw.makeUnaryRequest(
        '/beacon.victims.v1.VictimsService/OpenCase',
        (b: Buffer) => b,
        (b: Buffer) => b,
        Buffer.from([0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f, 0x01]),
        metadata,
        (error) => resolve(error),
      ),
    );
    raw.close();
    expect([garbage?.code, garbage?.details]).toEqual([
      status.INVALID_ARGUMENT,
      'the request is not a valid protobuf message',
    ]);

    // Everything wrong at once: sizes, counts, enums out of range, control characters,
    // injection-shaped ids, contact details without consent to contact, broken need rules.
    const everything = newCase({
      incidentIds: [...Array.from({ length: 20 }, (_, i) => `inc_${i}`), '{"$gt":""}'],
      reportIds: ['rep_../../etc/passwd'],
      jurisdiction: 'ZZ',
      language: 'deu',
      victim: {
        kind: 99 as victimsV1.VictimKind,
        displayName: 'x'.repeat(10_000),
        organisationName: 'Not a person’s field',
        email: 'jana@@example.org',
        phone: '+49 151 CALL-ME',
        preferredChannel: 42 as victimsV1.ContactChannel,
        notes: 'line one\nline two \u0000 hidden',
      },
      needs: [
        // (Not '1e3': a gRPC client cannot even encode that as an int64; the REST door's schema refuses it.)
        loss('0'),
        loss('-5'),
        loss('1000000000001'),
        loss('100', 'USD'),
        loss('100', 'EUR', new Date(Date.now() + 86_400_000)),
        { detail: { $case: 'sextortion', value: { ongoing: true, paymentDemanded: true } } },
        { detail: { $case: 'sextortion', value: { ongoing: false, paymentDemanded: false } } },
        { detail: { $case: 'dataExposure', value: { categories: [] } } },
        {
          detail: {
            $case: 'psychologicalDistress',
            value: { instrument: victimsV1.ScreeningInstrument.SCREENING_INSTRUMENT_K10, score: 99 },
          },
        },
        { detail: undefined },
      ],
      riskFlags: [7 as victimsV1.RiskFlag],
      consents: [
        consent(ConsentPurpose.CONSENT_PURPOSE_SHARE_SUPPORT),
        consent(ConsentPurpose.CONSENT_PURPOSE_SHARE_SUPPORT, false),
        { purpose: ConsentPurpose.CONSENT_PURPOSE_SHARE_LAW_ENFORCEMENT, granted: true, wordingVersion: '' },
      ],
    });
    const refused = await failure(officer('openCase', { case: everything }));
    expect(refused.code).toBe(status.INVALID_ARGUMENT);
    // All 23 found; the first 20 named (an error stays a few KiB), and how many more there are.
    expect(refused.fields).toHaveLength(20);
    expect(refused.message).toMatch(/; and 3 more$/);
    expect([
      'case.incident_ids',
      'case.report_ids[0]',
      'case.jurisdiction',
      'case.language',
      'case.consents[1].purpose',
      'case.consents[2].wording_version',
      'case.victim.kind',
      'case.victim.display_name',
      'case.victim.email',
      'case.victim.phone',
      'case.victim.preferred_channel',
      'case.victim',
      'case.victim.notes',
      'case.needs[0].financial_loss.amount_minor',
      'case.needs[1].financial_loss.amount_minor',
      'case.needs[2].financial_loss.amount_minor',
      'case.needs[3].financial_loss.currency',
      'case.needs[4].financial_loss.paid_at',
      'case.needs[6]',
      'case.needs[7].data_exposure.categories',
      'case.needs[8].psychological_distress.score',
      'case.needs[9]',
      'case.risk_flags[0]',
    ]).toEqual(expect.arrayContaining(refused.fields));
    // A person has no organisation name; an organisation needs one.
    const org = await failure(
      officer('openCase', {
        case: newCase({
          victim: { ...newCase().victim!, kind: victimsV1.VictimKind.VICTIM_KIND_SMALL_ORGANISATION },
        }),
      }),
    );
    expect(org.fields).toEqual(['case.victim.organisation_name']);
    expect(await written()).toEqual({ cases: 0, audit: 0 });

    // Too many needs, a bad idempotency key, a case id that is a query.
    const tooMany = await failure(
      officer(
        'openCase',
        { case: newCase({ needs: Array.from({ length: 21 }, () => loss('100')) }) },
        { 'idempotency-key': 'short' },
      ),
    );
    expect(tooMany.fields.sort()).toEqual(['case.needs', 'idempotency-key']);
    for (const caseId of [
      '{"$ne":null}',
      'vc_../../x',
      'VC-7K3M-Q9XD-2HPA-R4TB',
      '',
      'vc_' + 'a'.repeat(33),
    ]) {
      expect((await failure(officer('getCase', { caseId }))).fields).toEqual(['case_id']);
    }
    const page = await failure(
      officer('listCases', {
        pageSize: 501,
        pageToken: '{"$gt":""}',
        incidentId: 'inc_x',
        urgentOnly: false,
        includeClosed: false,
      }),
    );
    expect(page.fields.sort()).toEqual(['page_size', 'page_token']);
    // The platform's one range rule: intake and victims give the same reason for a page too big.
    expect(page.violations.find((x) => x.field === 'page_size')).toEqual({
      field: 'page_size',
      description: 'must be 0 to 500',
      reason: 'OUT_OF_RANGE',
    });
    expect(
      (await failure(officer('findCases', { email: 'a@b.example', phone: '+4915112345678' }))).fields,
    ).toEqual(['email']);
    expect((await failure(officer('findCases', { email: '', phone: '' }))).fields).toEqual(['email']);
    expect((await failure(officer('lookupCaseStatus', { reference: 'V'.repeat(10_000) }))).fields).toEqual([
      'reference',
    ]);

    // A batch too large is refused whole; a batch with bad rows writes only the good ones.
    const huge = await failure(
      officer('importCases', {
        rows: Array.from({ length: 1_001 }, () => ({ clientRef: '', case: newCase() })),
        firstRow: 1,
      }),
    );
    expect([huge.code, huge.fields]).toEqual([status.INVALID_ARGUMENT, ['rows']]);
    const mixed = await officer('importCases', {
      rows: [
        { clientRef: 'ok-row-000001', case: newCase() },
        { clientRef: 'no-case-00002' },
        { clientRef: 'x', case: newCase() },
        { clientRef: 'ok-row-000001', case: newCase() },
        { clientRef: 'ok-row-000005', case: newCase({ jurisdiction: 'Bavaria' }) },
        { clientRef: '', case: newCase() },
      ],
      firstRow: 41,
    });
    expect(mixed.errors).toEqual([
      { row: 42, field: 'case', description: 'is required' },
      { row: 43, field: 'client_ref', description: 'must be 8 to 128 letters, digits or . _ : -' },
      { row: 44, field: 'client_ref', description: 'repeats row 41' },
      { row: 45, field: 'case.jurisdiction', description: 'is not an ISO 3166 code, e.g. DE or DE-BY' },
    ]);
    expect(mixed.cases.map((c) => c.row)).toEqual([41, 46]);
    expect((await written()).cases).toBe(2);

    // A message over the size limit never reaches the handler.
    const oversize = await failure(
      officer('openCase', {
        case: newCase({ victim: { ...newCase().victim!, notes: 'n'.repeat(5 * 1024 * 1024) } }),
      }),
    );
    expect(oversize.code).toBe(status.RESOURCE_EXHAUSTED);

    // The registry refuses nonsense too.
    const cc = await t.call(['coordinator']);
    const badOrg = await failure(
      cc('putSupportOrganisation', {
        organisation: organisation('Bad Id', {
          name: '',
          jurisdictions: [],
          languages: ['klingon'],
          needsCovered: [0, 99] as victimsV1.NeedKind[],
          capacity: 1_000_000,
        }),
        expectedVersion: -1,
      }),
    );
    expect(badOrg.fields.sort()).toEqual(
      [
        'organisation.id',
        'organisation.name',
        'organisation.jurisdictions',
        'organisation.languages[0]',
        'organisation.needs_covered[0]',
        'organisation.needs_covered[1]',
        'organisation.capacity',
        'expected_version',
      ].sort(),
    );
    expect(badOrg.violations.find((x) => x.field === 'expected_version')?.reason).toBe('OUT_OF_RANGE');
    expect(await db.collection('organisations').countDocuments()).toBe(0);
  });
});
