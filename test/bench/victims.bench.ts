/**
 * Bulk victim intake for a fraud campaign: `VICTIMS_BENCH_REPORTS` reports (default 10,000)
 * sent to victims' ImportCases in batches of `VICTIMS_BENCH_BATCH` (default 1,000), against a
 * raw driver `insertMany` of the same reports as plain documents, in the same run on the same
 * Mongo-wire server. The service does what it always does: validates every field, judges the
 * needs, routes the few disclosed risks to a crisis line, seals the personal data under a data
 * key per victim, writes each case with its events in one document and audits the batch.
 *
 * Encryption's cost is shown twice: the same intake with a cipher that only copies bytes, and
 * the envelope encryption alone, in memory. How long the outbox relay takes to put every
 * event on JetStream after the last batch is accepted is reported separately: publishing
 * trails a bulk import on purpose (see the relay's concurrency in start.ts).
 *
 * Run with `pnpm bench victims`; prints a table and writes JSON to results/.
 */
import { randomBytes } from 'node:crypto';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { credentials, Metadata, type ServiceError } from '@grpc/grpc-js';
import { jetstreamManager } from '@nats-io/jetstream';
import { connectMongo, connectNats, createDevIssuer, createLogger } from '@beacon/platform';
import { victimsV1 } from '@beacon/proto';
import { infraDir, startStack, testNames, waitFor } from '@beacon/testkit/infra';
import {
  EnvelopeCipher,
  loadConfig,
  startVictims,
  type CaseCipher,
  type DataKey,
  type RunningVictims,
} from '@beacon/victims';
import { publish, type Check, type Row } from './report.js';

const REPORTS = Number(process.env['VICTIMS_BENCH_REPORTS'] ?? 10_000);
const BATCH = Number(process.env['VICTIMS_BENCH_BATCH'] ?? 1_000);
/** Batches in flight at once, for the baseline and the service alike (a bulk client's window). */
const WINDOW = Number(process.env['VICTIMS_BENCH_WINDOW'] ?? 2);
const TARGET_SHARE = 0.5;
const SEED = 2026;
const load = () => `load ${loadavg()[0]!.toFixed(1)} on ${cpus().length} cores`;

// ── The campaign's reports, from a seed ─────────────────────────────────────────────────────
function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const FIRST = ['Jana', 'Mehmet', 'Anna', 'Luca', 'Sofia', 'Jonas', 'Emma', 'Ali', 'Marie', 'Paul'];
const LAST = ['Novak', 'Yılmaz', 'Müller', 'Rossi', 'Schmidt', 'Kowalski', 'Dubois', 'Fischer'];
const INCIDENT = 'inc_benchphishing2026';
const now = Date.now();

function campaign(): victimsV1.ImportRow[] {
  const next = random(SEED);
  const pick = <T>(list: readonly T[]) => list[Math.floor(next() * list.length)]!;
  return Array.from({ length: REPORTS }, (_, i): victimsV1.ImportRow => {
    const name = `${pick(FIRST)} ${pick(LAST)}`;
    const needs: victimsV1.Need[] = [
      {
        detail: {
          $case: 'financialLoss',
          value: {
            amountMinor: String(1_000 + Math.floor(next() * 5_000_000)),
            currency: 'EUR',
            paymentMethod: pick([
              victimsV1.PaymentMethod.PAYMENT_METHOD_INSTANT_TRANSFER,
              victimsV1.PaymentMethod.PAYMENT_METHOD_SEPA_CREDIT_TRANSFER,
              victimsV1.PaymentMethod.PAYMENT_METHOD_CARD,
            ]),
            paidAt: new Date(now - Math.floor(next() * 20) * 86_400_000),
          },
        },
      },
    ];
    if (next() < 0.3) {
      needs.push({
        detail: {
          $case: 'accountTakeover',
          value: { accounts: [victimsV1.AccountKind.ACCOUNT_KIND_BANKING], lockedOut: next() < 0.5 },
        },
      });
    }
    if (next() < 0.2) {
      needs.push({
        detail: {
          $case: 'psychologicalDistress',
          value: {
            instrument: victimsV1.ScreeningInstrument.SCREENING_INSTRUMENT_PHQ4,
            score: Math.floor(next() * 13),
          },
        },
      });
    }
    return {
      clientRef: `bench-campaign-${i}`,
      case: {
        incidentIds: [INCIDENT],
        reportIds: [`rep_bench${i}`],
        jurisdiction: pick(['DE-BY', 'DE-HE', 'DE-BE', 'AT', 'FR']),
        language: pick(['de', 'de', 'de', 'tr', 'fr', 'en']),
        victim: {
          kind: victimsV1.VictimKind.VICTIM_KIND_PERSON,
          displayName: name,
          organisationName: '',
          email: `${name.toLowerCase().replace(/[^a-z]/g, '.')}.${i}@example.org`,
          phone: `+49151${String(10_000_000 + i)}`,
          preferredChannel: victimsV1.ContactChannel.CONTACT_CHANNEL_EMAIL,
          notes:
            next() < 0.5
              ? 'Called after the fake SMS from the bank; transferred the money the same day.'
              : '',
        },
        needs,
        // Two in a thousand disclose a risk: those go to the crisis line at once.
        riskFlags: i % 500 === 0 ? [victimsV1.RiskFlag.RISK_FLAG_SELF_HARM] : [],
        consents: [
          { purpose: victimsV1.ConsentPurpose.CONSENT_PURPOSE_CONTACT, granted: true, wordingVersion: 'v1' },
          {
            purpose: victimsV1.ConsentPurpose.CONSENT_PURPOSE_SHARE_SUPPORT,
            granted: true,
            wordingVersion: 'v1',
          },
        ],
      },
    };
  });
}

/** Copies bytes instead of encrypting: the same intake path without the cryptography. */
class CopyCipher implements CaseCipher {
  readonly currentKeyId = 'none';
  newKey() {
    return {
      key: Buffer.alloc(32) as unknown as DataKey,
      wrapped: { kekId: 'none', wrapped: Buffer.alloc(61) },
    };
  }
  unwrap() {
    return Buffer.alloc(32) as unknown as DataKey;
  }
  rewrap() {
    return undefined;
  }
  seal(_key: DataKey, _caseId: string, _field: string, plaintext: string) {
    return Buffer.from(plaintext, 'utf8');
  }
  open(_key: DataKey, _caseId: string, _field: string, sealed: Uint8Array) {
    return Buffer.from(sealed).toString('utf8');
  }
}

/** Runs `batch(offset)` for every batch of the campaign, `WINDOW` at a time. */
async function windowed(total: number, batch: (offset: number) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: WINDOW }, async () => {
      while (next < total) {
        const offset = next;
        next += BATCH;
        await batch(offset);
      }
    }),
  );
}

const rows = campaign();
/** case-opened for each, and referral-made for each disclosed risk (routed at once). */
const expectedEvents = rows.reduce((n, r) => n + 1 + (r.case!.riskFlags.length > 0 ? 1 : 0), 0);
const results: Row[] = [];
const checks: Check[] = [];
const stack = await startStack({ dir: join(infraDir, 'bench'), ports: 'free', ui: false, env: process.env });
const names = testNames();
const issuer = await createDevIssuer({});
const KEKS = `bench:${randomBytes(32).toString('base64')}`;

try {
  // ── Baseline: the raw driver, the same reports as plain documents ────────────────────────
  const mongo = await connectMongo({ url: stack.endpoints.mongoUrl, appName: 'bench' });
  const raw = mongo.db(names.database('raw')).collection('cases');
  const plain = rows.map((r, i) => ({ _id: `raw_${i}`, ...(victimsV1.NewCase.toJSON(r.case!) as object) }));
  const rawStarted = performance.now();
  await windowed(plain.length, (i) =>
    raw.insertMany(plain.slice(i, i + BATCH) as never[], { ordered: false }),
  );
  const rawSeconds = (performance.now() - rawStarted) / 1000;
  const rawRate = REPORTS / rawSeconds;
  results.push({
    name: `baseline: raw driver insertMany (${BATCH}/batch, ${WINDOW} in flight)`,
    opsPerSecond: rawRate,
    note: `${REPORTS} plain documents in ${rawSeconds.toFixed(1)} s; ${load()}`,
  });
  console.error(`raw baseline: ${rawRate.toFixed(0)} docs/s`);

  // ── The service's bulk intake, with and without encryption ───────────────────────────────
  async function intake(label: string, cipher?: CaseCipher) {
    const db = names.database(label);
    const stream = names.stream(`EVENTS_${label}`);
    const config = loadConfig({
      MONGO_URL: stack.endpoints.mongoUrl,
      NATS_URL: stack.endpoints.natsUrl,
      VICTIMS_DB: db,
      EVENTS_STREAM: stream,
      EVENTS_SUBJECT_ROOT: names.subject(`beacon.evt.${label}`),
      AUTH_ISSUER: issuer.issuer,
      AUTH_JWKS_URL: 'http://127.0.0.1:9/unused',
      VICTIMS_KEKS: KEKS,
      VICTIMS_SEARCH_KEY: randomBytes(32).toString('hex'),
      RECOVERY_SWEEP_SECONDS: '5',
    });
    const victims: RunningVictims = await startVictims(
      {
        ...config,
        grpc: { host: '127.0.0.1', port: 0 },
        auth: { ...config.auth, jwks: { keys: issuer.jwks } },
      },
      createLogger({ name: 'bench', level: 'warn' }),
      cipher ? { cipher } : {},
    );
    const client = new victimsV1.VictimsServiceClient(
      `127.0.0.1:${victims.port}`,
      credentials.createInsecure(),
      {
        'grpc.max_send_message_length': 16 * 1024 * 1024,
      },
    );
    const call = <Req, Res>(method: string, request: Req, roles: string[], agencyId?: string) =>
      issuer
        .mint({
          subject: 'bench',
          roles: roles as never,
          clearance: 'AMBER',
          ...(agencyId ? { agencyId } : {}),
        })
        .then(
          (token) =>
            new Promise<Res>((resolve, reject) => {
              const metadata = new Metadata();
              metadata.set('authorization', `Bearer ${token}`);
              (client as unknown as Record<string, (...a: unknown[]) => void>)[method]!.call(
                client,
                request,
                metadata,
                { deadline: new Date(Date.now() + 300_000) },
                (error: ServiceError | null, response: Res) => (error ? reject(error) : resolve(response)),
              );
            }),
        );
    await call(
      'putSupportOrganisation',
      {
        organisation: {
          id: 'crisis-line',
          name: 'Crisis line',
          jurisdictions: ['DE', 'AT', 'FR'],
          languages: ['de', 'en', 'fr', 'tr'],
          needsCovered: [],
          crisisCapable: true,
          capacity: 1_000,
          accepting: true,
          activeReferrals: 0,
          version: 0,
        },
        expectedVersion: 0,
      },
      ['coordinator'],
    );
    const started = performance.now();
    let accepted = 0;
    for (let i = 0; i < rows.length; i += BATCH) {
      const response = await call<victimsV1.ImportCasesRequest, victimsV1.ImportCasesResponse>(
        'importCases',
        { rows: rows.slice(i, i + BATCH), firstRow: i + 1 },
        ['victim_officer'],
        'vs-bench',
      );
      if (response.errors.length > 0)
        throw new Error(`refused: ${JSON.stringify(response.errors.slice(0, 3))}`);
      accepted += response.cases.length;
    }
    const seconds = (performance.now() - started) / 1000;
    if (accepted !== REPORTS) throw new Error(`${accepted} of ${REPORTS} accepted`);
    console.error(`${label}: ${(REPORTS / seconds).toFixed(0)} cases/s accepted; waiting for the events`);
    const nc = await connectNats({ servers: stack.endpoints.natsUrl, name: 'bench' });
    const jsm = await jetstreamManager(nc);
    await waitFor(
      async () => {
        const messages = (await jsm.streams.info(stream)).state.messages;
        if (messages < expectedEvents) throw new Error(`${messages} of ${expectedEvents}`);
      },
      { what: 'every event on JetStream', timeoutMs: 600_000, intervalMs: 250 },
    );
    const drained = (performance.now() - started) / 1000;
    await nc.close();
    client.close();
    await victims.stop();
    return { rate: REPORTS / seconds, seconds, drained, db };
  }

  const sealed = await intake('sealed');
  results.push({
    name: `victims ImportCases, envelope encryption (${BATCH}/batch, ${WINDOW} in flight)`,
    opsPerSecond: sealed.rate,
    note: `${REPORTS} cases in ${sealed.seconds.toFixed(1)} s; ${load()}`,
  });
  // The service's own documents (sealed data, clear state, outbox) written by the raw driver:
  // what the documents cost the store, apart from everything else the service does.
  const docs = await mongo.db(sealed.db).collection('cases').find({}).toArray();
  const again = mongo.db(names.database('docs')).collection('cases');
  const docsStarted = performance.now();
  await windowed(docs.length, (i) => again.insertMany(docs.slice(i, i + BATCH), { ordered: false }));
  const docsSeconds = (performance.now() - docsStarted) / 1000;
  results.push({
    name: `raw driver insertMany of the service's documents`,
    opsPerSecond: docs.length / docsSeconds,
    note: `the ${docs.length} case documents the encrypted run wrote, copied as they are; ${load()}`,
  });
  const copied = await intake('copied', new CopyCipher());
  results.push({
    name: `victims ImportCases, no encryption (copy cipher)`,
    opsPerSecond: copied.rate,
    note: `${REPORTS} cases in ${copied.seconds.toFixed(1)} s; ${load()}`,
  });
  results.push({
    name: `events on JetStream, from first batch (encrypted run)`,
    opsPerSecond: expectedEvents / sealed.drained,
    note: `${expectedEvents} events, all published ${sealed.drained.toFixed(1)} s after the first batch (${(sealed.drained - sealed.seconds).toFixed(1)} s after the last was accepted); ops = events`,
  });

  // ── Encryption alone, in memory: a data key, its wrap and the sealed fields per victim ────
  const cipher = new EnvelopeCipher([{ id: 'bench', key: randomBytes(32) }], 'bench');
  // Three rounds, the fastest counted: on a shared machine the slower ones measure the others.
  let cryptoSeconds = Number.POSITIVE_INFINITY;
  let bytes = 0;
  for (let round = 0; round < 3; round++) {
    const cryptoStarted = performance.now();
    bytes = 0;
    for (const [i, r] of rows.entries()) {
      const id = `vc_${String(i).padStart(32, '0')}`;
      const { key } = cipher.newKey(id);
      const v = r.case!.victim!;
      for (const [field, value] of [
        ['reference', 'VC-0000-0000-0000-0000'],
        ['displayName', v.displayName],
        ['email', v.email],
        ['phone', v.phone],
        ['preferredChannel', 'email'],
        ['notes', v.notes],
        ['needs', JSON.stringify(r.case!.needs)],
      ] as const) {
        if (value) bytes += cipher.seal(key, id, field, value).length;
      }
    }
    cryptoSeconds = Math.min(cryptoSeconds, (performance.now() - cryptoStarted) / 1000);
  }
  results.push({
    name: 'envelope encryption alone (in memory)',
    opsPerSecond: REPORTS / cryptoSeconds,
    p50Ms: (cryptoSeconds * 1000) / REPORTS,
    note: `per victim: a data key, its wrap, up to 7 sealed fields; ${(bytes / REPORTS).toFixed(0)} B sealed; best of 3 rounds; ms column = mean ms per victim`,
  });

  const overhead = 1 - sealed.rate / copied.rate;
  checks.push(
    {
      target: `bulk intake with encryption >= ${TARGET_SHARE * 100}% of the raw driver's insert rate`,
      measured: `${sealed.rate.toFixed(0)} vs ${rawRate.toFixed(0)} reports/s = ${((100 * sealed.rate) / rawRate).toFixed(0)}%`,
      pass: sealed.rate >= TARGET_SHARE * rawRate,
    },
    {
      target: 'encryption overhead reported (intake with vs without it; cryptography alone)',
      measured: `${(100 * overhead).toFixed(0)}% slower with encryption; ${((cryptoSeconds * 1000) / REPORTS).toFixed(3)} ms of cryptography per victim = ${((100 * cryptoSeconds) / sealed.seconds).toFixed(1)}% of the encrypted intake's time`,
      pass: true,
    },
  );
  await mongo.close();
} finally {
  await stack.stop();
}

publish('victims', results, checks, fileURLToPath(new URL('./results', import.meta.url)));
