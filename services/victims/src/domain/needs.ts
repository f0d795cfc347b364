import {
  NEED_KINDS,
  type Assessment,
  type FinancialLossNeed,
  type LossBand,
  type Need,
  type NeedKind,
  type NeedSummary,
  type PaymentMethod,
  type Priority,
  type Recall,
  type RiskFlag,
  type ScreeningInstrument,
  type ScreeningResult,
  type UrgencyReason,
} from './model.js';

const DAY_MS = 24 * 3_600_000;

/**
 * How long after a payment a victim's bank can still try to get the money back, by method:
 * a recall of a (SEPA or instant) credit transfer within about ten banking days, a card
 * chargeback within 120 days, a refund of an unauthorised direct debit within 13 months.
 * Crypto, gift cards and cash cannot be reversed. Rules of thumb for prioritising: the
 * officer confirms with the bank, which decides.
 */
export const RECALL_WINDOW_DAYS: Readonly<Record<PaymentMethod, number | 'never' | 'unknown'>> = {
  'sepa-credit-transfer': 14,
  'instant-transfer': 14,
  card: 120,
  'direct-debit': 395,
  crypto: 'never',
  'gift-card': 'never',
  cash: 'never',
  other: 'unknown',
};

/** A recall window closing this soon makes the case urgent: the bank must be asked today. */
export const RECALL_CLOSING_MS = 72 * 3_600_000;

/** A total at or above this (major units) is a high-priority financial need by itself. */
export const LARGE_LOSS_MAJOR = 10_000;

export const MAX_FINANCIAL_LOSSES = 10;
export const MAX_AMOUNT_MINOR = 1e12;

/** Whether a bank may still reverse one payment, and until when. */
export function recallOf(
  loss: Pick<FinancialLossNeed, 'paymentMethod' | 'paidAt'>,
  now: Date,
): { recall: Recall; deadline?: Date } {
  const window = RECALL_WINDOW_DAYS[loss.paymentMethod];
  if (window === 'never') return { recall: 'not-possible' };
  if (window === 'unknown' || !loss.paidAt) return { recall: 'unknown' };
  const deadline = new Date(loss.paidAt.getTime() + window * DAY_MS);
  return deadline > now ? { recall: 'possible', deadline } : { recall: 'closed', deadline };
}

/** ISO 4217 codes the runtime knows (`Intl`), e.g. EUR, USD, JPY. */
const CURRENCIES: ReadonlySet<string> = new Set(Intl.supportedValuesOf('currency'));

export function isCurrency(code: string): boolean {
  return CURRENCIES.has(code);
}

const digits = new Map<string, number>();

/** Digits of the currency's minor unit: 2 for EUR, 0 for JPY, 3 for KWD. */
export function minorDigits(currency: string): number {
  let known = digits.get(currency);
  if (known === undefined) {
    // Building a formatter costs far more than the lookup: a bulk intake asks thousands of times.
    known =
      new Intl.NumberFormat('en', { style: 'currency', currency }).resolvedOptions().maximumFractionDigits ??
      2;
    digits.set(currency, known);
  }
  return known;
}

export function lossBand(totalMinor: number, currency: string): LossBand {
  const major = totalMinor / 10 ** minorDigits(currency);
  if (major < 100) return 'under-100';
  if (major < 1_000) return 'under-1000';
  if (major < 10_000) return 'under-10000';
  if (major < 100_000) return 'under-100000';
  return 'from-100000';
}

/** The score range of each screening instrument. */
export const SCREENING_RANGE: Readonly<Record<ScreeningInstrument, readonly [number, number]>> = {
  'phq-4': [0, 12],
  k10: [10, 50],
};

/**
 * The published bands: PHQ-4 0–2 normal, 3–5 mild, 6–8 moderate, 9–12 severe; K10 10–19
 * likely well, 20–24 mild, 25–29 moderate, 30–50 severe. A screening flags who needs a
 * professional's attention; it is not a diagnosis.
 */
export function screeningResult(instrument: ScreeningInstrument, score: number): ScreeningResult {
  const bands: readonly [number, ScreeningResult][] =
    instrument === 'phq-4'
      ? [
          [9, 'severe'],
          [6, 'moderate'],
          [3, 'mild'],
        ]
      : [
          [30, 'severe'],
          [25, 'moderate'],
          [20, 'mild'],
        ];
  return bands.find(([from]) => score >= from)?.[1] ?? 'none';
}

/** A need that breaks a rule of the assessment; `index` is its place in the request. */
export interface NeedProblem {
  readonly index: number;
  /** A field of the need's detail, or '' for the need as a whole. */
  readonly field: string;
  readonly message: string;
}

/**
 * What is wrong with a set of needs: each kind once, except financial losses (one per
 * payment, at most ten, all in one currency, so the total means something); amounts whole
 * and positive; payments not in the future; screening scores within their instrument's range.
 */
export function needProblems(needs: readonly Need[], now: Date): NeedProblem[] {
  const problems: NeedProblem[] = [];
  const seen = new Set<NeedKind>();
  let currency: string | undefined;
  let losses = 0;
  needs.forEach((need, index) => {
    if (need.kind !== 'financial-loss') {
      if (seen.has(need.kind)) problems.push({ index, field: '', message: `${need.kind} is given twice` });
      seen.add(need.kind);
    }
    switch (need.kind) {
      case 'financial-loss': {
        losses += 1;
        if (losses > MAX_FINANCIAL_LOSSES) {
          problems.push({ index, field: '', message: `at most ${MAX_FINANCIAL_LOSSES} financial losses` });
        }
        if (
          !Number.isSafeInteger(need.amountMinor) ||
          need.amountMinor < 1 ||
          need.amountMinor > MAX_AMOUNT_MINOR
        ) {
          problems.push({ index, field: 'amountMinor', message: 'must be a whole number from 1 to 10^12' });
        }
        if (!isCurrency(need.currency)) {
          problems.push({ index, field: 'currency', message: 'must be an ISO 4217 code, e.g. EUR' });
        } else if (currency !== undefined && need.currency !== currency) {
          problems.push({
            index,
            field: 'currency',
            message: `record every loss in one currency (${currency})`,
          });
        } else {
          currency = need.currency;
        }
        if (need.paidAt && need.paidAt.getTime() > now.getTime() + 5 * 60_000) {
          problems.push({ index, field: 'paidAt', message: 'is in the future' });
        }
        break;
      }
      case 'psychological-distress': {
        const [min, max] = SCREENING_RANGE[need.instrument];
        if (!Number.isInteger(need.score) || need.score < min || need.score > max) {
          problems.push({
            index,
            field: 'score',
            message: `must be ${min} to ${max} for ${need.instrument}`,
          });
        }
        break;
      }
      case 'identity-theft':
      case 'account-takeover':
      case 'sextortion':
      case 'harassment':
      case 'data-exposure':
      case 'service-loss':
        break;
    }
  });
  return problems;
}

const SENSITIVE_DOCUMENTS = new Set(['id-card', 'passport', 'bank-account']);
const SENSITIVE_ACCOUNTS = new Set(['email', 'banking']);
const SENSITIVE_DATA = new Set([
  'credentials',
  'financial',
  'health',
  'identity-documents',
  'intimate-images',
]);

/**
 * Judges the needs (already free of `needProblems`) and risk flags: a summary per need kind
 * without personal data, a priority for each, and whether the case is urgent and why. Any
 * risk flag makes it urgent and a crisis: it goes to a crisis-capable organisation at once.
 */
export function assessNeeds(needs: readonly Need[], riskFlags: readonly RiskFlag[], now: Date): Assessment {
  const reasons = new Set<UrgencyReason>();
  const summaries = new Map<NeedKind, NeedSummary>();
  const losses = needs.filter((n): n is FinancialLossNeed => n.kind === 'financial-loss');
  if (losses.length > 0) summaries.set('financial-loss', financialSummary(losses, now, reasons));
  for (const need of needs) {
    const summary = judge(need, reasons);
    if (summary) summaries.set(need.kind, summary);
  }
  if (riskFlags.length > 0) reasons.add('risk-disclosed');
  const urgencyReasons = [...reasons].sort();
  return {
    needs: NEED_KINDS.flatMap((kind) => {
      const summary = summaries.get(kind);
      return summary ? [summary] : [];
    }),
    urgent: urgencyReasons.length > 0,
    urgencyReasons,
    crisis: riskFlags.length > 0,
    assessedAt: now,
  };
}

function financialSummary(
  losses: readonly FinancialLossNeed[],
  now: Date,
  reasons: Set<UrgencyReason>,
): NeedSummary {
  const currency = losses[0]!.currency;
  const total = losses.reduce((sum, l) => sum + l.amountMinor, 0);
  const recalls = losses.map((l) => recallOf(l, now));
  const open = recalls
    .filter((r) => r.recall === 'possible')
    .map((r) => r.deadline!)
    .sort((a, b) => a.getTime() - b.getTime());
  const recall: Recall =
    open.length > 0
      ? 'possible'
      : recalls.some((r) => r.recall === 'unknown')
        ? 'unknown'
        : recalls.some((r) => r.recall === 'closed')
          ? 'closed'
          : 'not-possible';
  const deadline = open[0];
  const band = lossBand(total, currency);
  let priority: Priority = 'routine';
  if (deadline && deadline.getTime() - now.getTime() <= RECALL_CLOSING_MS) {
    priority = 'critical';
    reasons.add('recall-closing');
  } else if (deadline || total / 10 ** minorDigits(currency) >= LARGE_LOSS_MAJOR) {
    priority = 'high';
  }
  return {
    kind: 'financial-loss',
    priority,
    lossBand: band,
    currency,
    recall,
    ...(deadline ? { recallDeadline: deadline } : {}),
  };
}

function judge(need: Need, reasons: Set<UrgencyReason>): NeedSummary | undefined {
  switch (need.kind) {
    case 'financial-loss':
      return undefined;
    case 'identity-theft':
      return {
        kind: need.kind,
        priority:
          need.misuseSeen || need.documents.some((d) => SENSITIVE_DOCUMENTS.has(d)) ? 'high' : 'routine',
      };
    case 'account-takeover':
      return {
        kind: need.kind,
        // A lost e-mail account unlocks the others; a banking one, the money.
        priority: need.lockedOut || need.accounts.some((a) => SENSITIVE_ACCOUNTS.has(a)) ? 'high' : 'routine',
      };
    case 'sextortion':
      if (need.ongoing) reasons.add('ongoing-extortion');
      return { kind: need.kind, priority: need.ongoing ? 'critical' : 'high' };
    case 'harassment':
      if (need.offlineThreats) reasons.add('offline-threats');
      return {
        kind: need.kind,
        priority: need.offlineThreats ? 'critical' : need.ongoing ? 'high' : 'routine',
      };
    case 'data-exposure':
      return {
        kind: need.kind,
        priority: need.categories.some((c) => SENSITIVE_DATA.has(c)) ? 'high' : 'routine',
      };
    case 'service-loss':
      if (need.vital) reasons.add('vital-service-lost');
      return {
        kind: need.kind,
        priority: need.vital ? 'critical' : need.service === 'health-care' ? 'high' : 'routine',
      };
    case 'psychological-distress': {
      const result = screeningResult(need.instrument, need.score);
      if (result === 'severe') reasons.add('severe-distress');
      return {
        kind: need.kind,
        priority: result === 'severe' ? 'critical' : result === 'moderate' ? 'high' : 'routine',
        screeningResult: result,
      };
    }
  }
}

/** Need kinds in `after` that `before` lacked: each is a need-identified event. */
export function newNeedKinds(before: readonly NeedSummary[], after: readonly NeedSummary[]): NeedSummary[] {
  const had = new Set(before.map((n) => n.kind));
  return after.filter((n) => !had.has(n.kind));
}
