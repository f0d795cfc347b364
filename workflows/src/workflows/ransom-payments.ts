/**
 * Ransom payments in the response: CIRCIA asks for a report within 24 hours of each payment,
 * so every payment recorded adds one (`circia-ransom-payment-report`, then `-2`, `-3`…; see
 * `ransom-reports.ts` in the domain package). The first payment is kept where responses always
 * kept it (`ransomPaidAtMs`), so histories recorded before several payments could be recorded
 * replay unchanged; the list appears with the second.
 */
import { MAX_RANSOM_PAYMENTS, obligationSpec, ransomPayments, ransomReportId } from '@beacon/domain';

export interface RansomState {
  /** The first payment. */
  ransomPaidAtMs?: number;
  /** Every payment in the order recorded, from the second one on. */
  ransomPaymentsAtMs?: number[];
}

const iso = (ms: number) => new Date(ms).toISOString();

/** The payments as the domain's facts take them (schedules, regimes, drafts, clocks). */
export function ransomFacts(state: RansomState): {
  ransomPaidAtMs?: number;
  ransomPaymentsAtMs?: number[];
} {
  return {
    ...(state.ransomPaidAtMs === undefined ? {} : { ransomPaidAtMs: state.ransomPaidAtMs }),
    ...(state.ransomPaymentsAtMs === undefined ? {} : { ransomPaymentsAtMs: [...state.ransomPaymentsAtMs] }),
  };
}

/** Why the payment cannot be recorded; undefined when it can. */
export function ransomPaymentProblem(
  state: RansomState,
  paidAtMs: number,
  nowMs: number,
): string | undefined {
  if (!Number.isFinite(paidAtMs) || paidAtMs > nowMs) return 'paidAtMs must not be in the future';
  const payments = ransomPayments(state);
  if (payments.includes(paidAtMs)) return `the ransom payment at ${iso(paidAtMs)} is already recorded`;
  if (payments.length >= MAX_RANSOM_PAYMENTS) return `at most ${MAX_RANSOM_PAYMENTS} ransom payments`;
  return undefined;
}

/** Records one more payment; returns what the timeline says of it. */
export function recordRansomPayment(state: RansomState, paidAtMs: number): string {
  const payments = ransomPayments(state);
  if (payments.length === 0) {
    state.ransomPaidAtMs = paidAtMs;
    return `ransom paid at ${iso(paidAtMs)}`;
  }
  state.ransomPaymentsAtMs = [...payments, paidAtMs];
  const n = payments.length + 1;
  return (
    `ransom payment ${n} at ${iso(paidAtMs)}: ` +
    `${obligationSpec(ransomReportId(n)).title} due ${iso(paidAtMs + 24 * 3_600_000)}`
  );
}
