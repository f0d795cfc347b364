/**
 * CIRCIA asks for a ransom payment report within 24 hours of each payment (6 U.S.C.
 * 681b(a)(2)), so an incident with several payments owes several reports. The first payment's
 * report is `circia-ransom-payment-report`, as it always was; each later one is numbered:
 * `circia-ransom-payment-report-2`, `-3`, and so on, in the order the payments were recorded.
 * Pure and free of Node built-ins: Temporal workflows import it.
 */

export const RANSOM_REPORT = 'circia-ransom-payment-report';

/** The report owed for the second and every later payment. */
export type LaterRansomReportId = `${typeof RANSOM_REPORT}-${number}`;

/** At most this many payments are recorded for one incident. */
export const MAX_RANSOM_PAYMENTS = 50;

const LATER = /^circia-ransom-payment-report-([1-9][0-9]{0,2})$/;

/** The report for the `n`th payment (from 1). */
export function ransomReportId(n: number): typeof RANSOM_REPORT | LaterRansomReportId {
  return n <= 1 ? RANSOM_REPORT : `${RANSOM_REPORT}-${n}`;
}

/** Which payment (from 1) a ransom payment report is for; undefined for any other id. */
export function ransomPaymentNumber(id: string): number | undefined {
  if (id === RANSOM_REPORT) return 1;
  const n = Number(LATER.exec(id)?.[1]);
  return n >= 2 && n <= MAX_RANSOM_PAYMENTS ? n : undefined;
}

/**
 * Every payment recorded, in the order recorded: the list once there is one, else the single
 * first payment of facts written before there could be several.
 */
export function ransomPayments(facts: {
  readonly ransomPaidAtMs?: number;
  readonly ransomPaymentsAtMs?: readonly number[];
}): readonly number[] {
  return facts.ransomPaymentsAtMs ?? (facts.ransomPaidAtMs === undefined ? [] : [facts.ransomPaidAtMs]);
}
