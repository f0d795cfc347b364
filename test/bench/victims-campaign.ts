/**
 * The victims benchmark's campaign: a phishing wave's victims, generated from a seed, so the
 * benchmark and its import client (a worker thread) make the very same reports.
 */
import { victimsV1 } from '@beacon/proto';

export const INCIDENT = 'inc_benchphishing2026';
const FIRST = ['Jana', 'Mehmet', 'Anna', 'Luca', 'Sofia', 'Jonas', 'Emma', 'Ali', 'Marie', 'Paul'];
const LAST = ['Novak', 'Yılmaz', 'Müller', 'Rossi', 'Schmidt', 'Kowalski', 'Dubois', 'Fischer'];

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

/** `count` reports; `now` fixes the payment dates, so both sides make the same bytes. */
export function campaign(
  count: number,
  seed: number,
  now: number,
  refPrefix = 'bench-campaign',
): victimsV1.ImportRow[] {
  const next = random(seed);
  const pick = <T>(list: readonly T[]) => list[Math.floor(next() * list.length)]!;
  return Array.from({ length: count }, (_, i): victimsV1.ImportRow => {
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
      clientRef: `${refPrefix}-${i}`,
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

/** case-opened for each, and referral-made for each disclosed risk (routed at once). */
export function eventsOf(rows: readonly victimsV1.ImportRow[]): number {
  return rows.reduce((n, r) => n + 1 + (r.case!.riskFlags.length > 0 ? 1 : 0), 0);
}

/** Runs `batch(offset)` for each batch of `total` rows, `window` batches in flight at once. */
export async function windowed(
  total: number,
  size: number,
  window: number,
  batch: (offset: number) => Promise<unknown>,
): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: window }, async () => {
      while (next < total) {
        const offset = next;
        next += size;
        await batch(offset);
      }
    }),
  );
}
