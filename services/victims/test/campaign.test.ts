import { status } from '@grpc/grpc-js';
import { describe, expect } from 'vitest';
import { victimsV1 } from '@beacon/proto';
import { test as base } from '@beacon/testkit';
import { EnvelopeCipher, type CaseCipher } from '../src/index.js';
import { parseKeyEncryptionKeys } from '../src/adapters/crypto/envelope-cipher.js';
import { unpackSealed } from '../src/adapters/mongo/sealed-codec.js';
import { consent, failure, kek, organisation, startVictimsStack, type VictimsStack } from './harness.js';

const KEKS = `${kek('campaign-k1')}`;
const test = base.extend('stack', async ({ infra, names }, { onCleanup }): Promise<VictimsStack> => {
  const stack = await startVictimsStack(infra, names, { keks: KEKS });
  onCleanup(() => stack.stop());
  return stack;
});

const { ConsentPurpose, PaymentMethod, RiskFlag } = victimsV1;
const VICTIMS = 300;
const INCIDENT = 'inc_phishwave2026';

/** Everything personal about victim `i`: every value must stay out of events and logs. */
function personal(i: number) {
  const n = String(i).padStart(4, '0');
  return {
    displayName: `Victim ${n} Ünal-Schröder`,
    email: `victim${n}.pii@example.org`,
    phone: `+4915100${n}`,
    notes: `secret-note-${n}: lost the savings for the wedding`,
  };
}

function row(i: number): victimsV1.ImportRow {
  const p = personal(i);
  const needs: victimsV1.Need[] = [
    {
      detail: {
        $case: 'financialLoss',
        value: {
          amountMinor: String(5_000 + i * 997),
          currency: 'EUR',
          paymentMethod:
            i % 3 === 0 ? PaymentMethod.PAYMENT_METHOD_CARD : PaymentMethod.PAYMENT_METHOD_INSTANT_TRANSFER,
          paidAt: new Date('2026-03-01T10:00:00Z'),
        },
      },
    },
  ];
  if (i % 4 === 0) {
    needs.push({
      detail: {
        $case: 'accountTakeover',
        value: { accounts: [victimsV1.AccountKind.ACCOUNT_KIND_BANKING], lockedOut: true },
      },
    });
  }
  if (i % 5 === 0) {
    needs.push({
      detail: {
        $case: 'psychologicalDistress',
        value: { instrument: victimsV1.ScreeningInstrument.SCREENING_INSTRUMENT_K10, score: 15 + (i % 36) },
      },
    });
  }
  return {
    clientRef: `phishwave-row-${i}`,
    case: {
      incidentIds: [INCIDENT],
      reportIds: [`rep_${i}`],
      jurisdiction: i % 2 === 0 ? 'DE-BY' : 'DE-HE',
      language: i % 7 === 0 ? 'tr' : 'de',
      victim: {
        kind: victimsV1.VictimKind.VICTIM_KIND_PERSON,
        displayName: p.displayName,
        organisationName: '',
        email: p.email,
        phone: p.phone,
        preferredChannel: victimsV1.ContactChannel.CONTACT_CHANNEL_EMAIL,
        notes: p.notes,
      },
      needs,
      riskFlags: i % 50 === 0 ? [RiskFlag.RISK_FLAG_SELF_HARM] : [],
      consents: [
        consent(ConsentPurpose.CONSENT_PURPOSE_CONTACT),
        consent(ConsentPurpose.CONSENT_PURPOSE_SHARE_SUPPORT, i % 2 === 0),
      ],
    },
  };
}

describe('a fraud campaign with hundreds of victims', () => {
  test('imports in bulk, counts without identities, erases by destroying keys, and never lets personal data into an event or a log line', async ({
    stack: t,
    nats,
    mongoClient,
  }) => {
    const cc = await t.call(['coordinator']);
    await cc('putSupportOrganisation', {
      organisation: organisation('crisis-line', { crisisCapable: true, needsCovered: [], capacity: 50 }),
      expectedVersion: 0,
    });
    const officer = await t.call(['victim_officer'], 'vs-bayern');

    // Three batches; the second carries two bad rows, reported by row and never written.
    const rows = Array.from({ length: VICTIMS }, (_, i) => row(i + 1));
    const bad = [...rows.slice(100, 200)];
    bad.splice(10, 0, {
      clientRef: 'phishwave-bad-1',
      case: { ...row(9001).case!, victim: { ...row(9001).case!.victim!, email: 'not-an-address' } },
    });
    bad.splice(20, 0, { clientRef: 'phishwave-bad-2', case: { ...row(9002).case!, jurisdiction: 'XX' } });
    const imported: victimsV1.ImportedCase[] = [];
    for (const [batch, first] of [
      [rows.slice(0, 100), 1],
      [bad, 101],
      [rows.slice(200), 203],
    ] as const) {
      const result = await officer('importCases', { rows: batch, firstRow: first });
      imported.push(...result.cases);
      if (first === 101) {
        expect(result.errors).toEqual([
          { row: 111, field: 'case.victim.email', description: 'is not an e-mail address' },
          { row: 121, field: 'case.jurisdiction', description: 'is not an ISO 3166 code, e.g. DE or DE-BY' },
        ]);
      } else {
        expect(result.errors).toEqual([]);
      }
    }
    expect(imported).toHaveLength(VICTIMS);
    expect(new Set(imported.map((c) => c.caseId)).size).toBe(VICTIMS);
    // A disclosed risk (every 50th) or a severe K10 screening (30 and above) is urgent.
    const urgent = (i: number) => i % 50 === 0 || (i % 5 === 0 && 15 + (i % 36) >= 30);
    expect(imported.filter((c) => c.urgent)).toHaveLength(rows.map((_, i) => i + 1).filter(urgent).length);
    const cases = mongoClient.db(t.db).collection('cases');
    expect(await cases.countDocuments()).toBe(VICTIMS);
    // A batch sent again opens nothing new.
    const replay = await officer('importCases', { rows: rows.slice(0, 100), firstRow: 1 });
    expect(replay.cases.every((c) => c.replayed)).toBe(true);
    expect(replay.cases.map((c) => c.reference)).toEqual(imported.slice(0, 100).map((c) => c.reference));
    expect(await cases.countDocuments()).toBe(VICTIMS);

    // Coordinators see counts and needs — never a case's personal data.
    const stats = await cc('getVictimStats', { incidentId: INCIDENT, jurisdiction: '' });
    const count = (list: victimsV1.Count[], key: string) => list.find((c) => c.key === key)?.cases;
    expect(stats.cases).toBe(VICTIMS);
    expect(count(stats.byNeed, 'financial-loss')).toBe(300);
    expect(count(stats.byNeed, 'account-takeover')).toBe(75);
    expect(count(stats.byNeed, 'psychological-distress')).toBe(60);
    expect(count(stats.byJurisdiction, 'DE-BY')).toBe(150);
    expect(count(stats.byLanguage, 'tr')).toBe(42);
    expect(stats.losses.reduce((sum, l) => sum + l.cases, 0)).toBe(300);
    // Six risks disclosed; those with consent to share (even rows) went to the crisis line.
    expect(count(stats.referrals, 'offered')).toBe(6);
    // 60 K10 screenings, and no screening result in the statistics: they never leave the case
    expect(stats.byScreeningResult).toEqual([]);
    expect((await failure(cc('getCase', { caseId: imported[0]!.caseId }))).code).toBe(
      status.PERMISSION_DENIED,
    );
    expect(JSON.stringify(stats)).not.toMatch(/victim\d|@example|Ünal/);

    // Erasure: the data key goes; the ciphertext stays and can never be opened again.
    const erased = imported.slice(0, 10);
    for (const c of erased) {
      const { case: summary } = await officer('eraseVictimData', { caseId: c.caseId });
      expect(summary).toMatchObject({ erased: true, status: victimsV1.CaseStatus.CASE_STATUS_CLOSED });
    }
    const gone = await failure(officer('getCase', { caseId: erased[0]!.caseId }));
    expect([gone.code, gone.message]).toEqual([
      status.FAILED_PRECONDITION,
      'the victim’s personal data was erased and can no longer be read',
    ]);
    const doc = await cases.findOne({ _id: erased[0]!.caseId as never });
    expect(doc).not.toHaveProperty('dataKey');
    expect(doc).not.toHaveProperty('emailHash');
    const sealedPersonal = unpackSealed(doc!['sealed'] as string).personal!;
    expect(sealedPersonal.length).toBeGreaterThan(28);
    const keks = parseKeyEncryptionKeys(KEKS);
    const cipher = new EnvelopeCipher(keks, keks[0]!.id);
    // Neither the KEK nor any key that could be made again opens what is left.
    for (const key of [keks[0]!.key, cipher.newKey(erased[0]!.caseId).key]) {
      expect(() => cipher.open(key as never, erased[0]!.caseId, 'personal', sealedPersonal)).toThrow();
    }
    expect((await officer('findCases', { email: personal(1).email, phone: '' })).cases).toEqual([]);
    expect((await officer('findCases', { email: personal(11).email, phone: '' })).cases).toHaveLength(1);
    // Erased cases (rows 1 to 10) still count in the totals, and in no breakdown any more.
    const after = await cc('getVictimStats', { incidentId: INCIDENT, jurisdiction: '' });
    expect(after).toMatchObject({ cases: VICTIMS, erased: 10, erasedSuppressed: false });
    expect(count(after.byNeed, 'financial-loss')).toBe(290);
    expect(count(after.byNeed, 'account-takeover')).toBe(73);
    expect(count(after.byNeed, 'psychological-distress')).toBe(58);
    expect(count(after.byJurisdiction, 'DE-BY')).toBe(145);
    expect(count(after.byLanguage, 'tr')).toBe(41);
    expect(count(after.byStatus, 'closed')).toBeUndefined();
    expect(after.byStatus.reduce((sum, c) => sum + c.cases, 0)).toBe(VICTIMS - 10);

    // Every event (opened, crisis referrals, closures) and every log line: scanned for
    // every personal value of every victim.
    const expected = VICTIMS + 6 + 10;
    const events = await t.events(nats, expected);
    expect(events).toHaveLength(expected);
    const leaks: string[] = [];
    // Bytes read both ways: UTF-8 for text fields, Latin-1 so nothing fails to decode.
    const texts = [
      ...events.map(
        (e) =>
          `event ${e.type} ${Buffer.from(e.raw).toString('utf8')} ${Buffer.from(e.raw).toString('latin1')}`,
      ),
      ...t.logs.map((line) => `log: ${line}`),
    ];
    const values = Array.from({ length: VICTIMS }, (_, i) => personal(i + 1)).flatMap((p) => [
      p.displayName,
      p.email,
      p.phone,
      p.phone.slice(1),
      p.notes,
    ]);
    values.push(...imported.map((c) => c.reference), ...imported.map((c) => c.reference.replaceAll('-', '')));
    for (const text of texts) {
      for (const value of values) if (text.includes(value)) leaks.push(`${value} in ${text.slice(0, 80)}`);
    }
    expect(leaks).toEqual([]);
    expect(t.logs.length).toBeGreaterThan(0);
    // …nor in the audit log.
    const audit = JSON.stringify(await mongoClient.db(t.db).collection('audit').find().toArray());
    expect(values.filter((v) => audit.includes(v))).toEqual([]);
  });

  test('a full batch of 1,000 with earlier rows anywhere in it: those answered as replays, one audit record of the new cases, one event each', async ({
    stack: t,
    nats,
    mongoClient,
  }) => {
    const officer = await t.call(['victim_officer'], 'vs-bayern');
    // Without disclosed risks, so that every new case has exactly one event (case-opened).
    const plain = (i: number) => {
      const r = row(i);
      return { ...r, case: { ...r.case!, riskFlags: [] } };
    };
    // Rows already imported sit at the start, middle and end of the 1,000-row batch.
    const earlier = [3, 260, 990].map(plain);
    const first = await officer('importCases', { rows: earlier, firstRow: 1 });
    expect(first.cases).toHaveLength(3);
    const batch = Array.from({ length: 1_000 }, (_, i) => plain(i + 1));
    const result = await officer('importCases', { rows: batch, firstRow: 1 });
    expect(result.errors).toEqual([]);
    expect(result.cases.map((c) => c.row)).toEqual(batch.map((_, i) => i + 1));
    expect(result.cases.filter((c) => c.replayed).map((c) => c.row)).toEqual([3, 260, 990]);
    expect(result.cases.filter((c) => c.replayed).map((c) => c.reference)).toEqual(
      first.cases.map((c) => c.reference),
    );
    expect(new Set(result.cases.map((c) => c.caseId)).size).toBe(1_000);
    expect(await mongoClient.db(t.db).collection('cases').countDocuments()).toBe(1_000);
    // The import is audited once, naming exactly the cases it opened.
    const audit = await mongoClient.db(t.db).collection('audit').find({ action: 'import' }).toArray();
    expect(audit.map((a) => (a['caseIds'] as string[]).length)).toEqual([3, 997]);
    expect(new Set(audit[1]!['caseIds'] as string[])).toEqual(
      new Set(result.cases.filter((c) => !c.replayed).map((c) => c.caseId)),
    );
    const events = await t.events(nats, 1_000);
    expect(events.filter((e) => e.type.endsWith('case-opened.v1'))).toHaveLength(1_000);
  });

  test('a batch only part of which can be stored: that part answered and audited, the rest answered row by row, and sending it again completes it', async ({
    infra,
    names,
    mongoClient,
  }) => {
    // Sealing fails for one victim, as a key service outage would: its chunk and the chunks
    // after it are not written; the chunk before it is.
    const keks = parseKeyEncryptionKeys(KEKS);
    const real = new EnvelopeCipher(keks, keks[0]!.id);
    const faulty: CaseCipher = {
      currentKeyId: real.currentKeyId,
      newKey: (caseId) => real.newKey(caseId),
      unwrap: (caseId, wrapped) => real.unwrap(caseId, wrapped),
      rewrap: (caseId, wrapped) => real.rewrap(caseId, wrapped),
      open: (key, caseId, field, sealed) => real.open(key, caseId, field, sealed),
      seal: (key, caseId, field, text) => {
        if (text.includes('Seal-Fault')) throw new Error('the key service is unreachable');
        return real.seal(key, caseId, field, text);
      },
    };
    const t = await startVictimsStack(infra, names, { keks: KEKS, cipher: faulty });
    try {
      const officer = await t.call(['victim_officer'], 'vs-bayern');
      const rows = Array.from({ length: 600 }, (_, i) => row(i + 1));
      const victim = rows[399]!.case!.victim!;
      rows[399] = {
        ...rows[399]!,
        case: { ...rows[399]!.case!, victim: { ...victim, displayName: 'Seal-Fault' } },
      };
      const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

      const partial = await officer('importCases', { rows, firstRow: 1 });
      expect(partial.cases.map((c) => c.row)).toEqual(range(1, 250));
      expect(partial.errors.map((e) => e.row)).toEqual(range(251, 600));
      expect(partial.errors[0]!.field).toBe('case');
      expect(partial.errors[0]!.description).toContain('send the row again');
      const db = mongoClient.db(t.db);
      expect(await db.collection('cases').countDocuments()).toBe(250);
      const audited = await db.collection('audit').find({ action: 'import' }).toArray();
      expect(audited.map((a) => new Set(a['caseIds'] as string[]))).toEqual([
        new Set(partial.cases.map((c) => c.caseId)),
      ]);
      expect(
        t.logs.some((l) => l.includes('part of an import was not stored') && l.includes('"rows":350')),
      ).toBe(true);

      rows[399] = row(400);
      const again = await officer('importCases', { rows, firstRow: 1 });
      expect(again.errors).toEqual([]);
      expect(again.cases.filter((c) => c.replayed).map((c) => c.row)).toEqual(range(1, 250));
      expect(again.cases.filter((c) => c.replayed).map((c) => c.reference)).toEqual(
        partial.cases.map((c) => c.reference),
      );
      expect(await db.collection('cases').countDocuments()).toBe(600);
    } finally {
      await t.stop();
    }
  });
});
