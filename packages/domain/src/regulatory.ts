/**
 * Regulatory reporting regimes an incident can fall under, when each applies, what must be
 * reported by when, and a draft of each report. Every clock runs from when the affected
 * entity became aware of the incident (`awareAt`), not from when Beacon heard of it: a late
 * report has less time left.
 *
 * - NIS2 (Directive (EU) 2022/2555, Art. 23): for a significant incident at an essential or
 *   important entity, an early warning within 24 hours, an incident notification within
 *   72 hours, and a final report one month after the notification; when the incident is still
 *   being handled then, a progress report at that time and the final report one month after it
 *   is handled.
 * - CIRCIA (6 U.S.C. 681b): a covered cyber incident report within 72 hours; a ransom payment
 *   report within 24 hours of each payment, whatever the incident's size (`ransom-reports.ts`).
 * - CER (Directive (EU) 2022/2557, Art. 15): an incident notification within 24 hours, and a
 *   detailed report at the latest one month after it.
 *
 * Whether an incident is "significant", "covered" or a "significant disruption" is a legal
 * judgement; Beacon approximates it from the NCISS-aligned severity with the thresholds in
 * `REGULATORY_THRESHOLDS`, so a coordinator sees every clock that may run and files or
 * withdraws reports. Times are milliseconds since the epoch (workflow-safe, serialisable).
 * Pure and free of Node built-ins: Temporal workflows import it.
 */
import { countryOf, EU_MEMBER_STATES, parseJurisdiction } from './jurisdiction.js';
import type { Place } from './places.js';
import { NCISS_INPUTS } from './nciss.js';
import {
  RANSOM_REPORT,
  ransomPaymentNumber,
  ransomPayments,
  ransomReportId,
  type LaterRansomReportId,
} from './ransom-reports.js';
import type { Sector } from './taxonomy.js';

export const REGIMES = ['NIS2', 'CIRCIA', 'CER'] as const;
export type Regime = (typeof REGIMES)[number];

export const OBLIGATION_IDS = [
  'nis2-early-warning',
  'nis2-incident-notification',
  'nis2-progress-report',
  'nis2-final-report',
  'circia-incident-report',
  'circia-ransom-payment-report',
  'cer-initial-notification',
  'cer-detailed-report',
] as const;
/** One of `OBLIGATION_IDS`, or the report of a later ransom payment (`…-2`, `…-3`). */
export type ObligationId = (typeof OBLIGATION_IDS)[number] | LaterRansomReportId;

export function isObligationId(value: string): value is ObligationId {
  return (OBLIGATION_IDS as readonly string[]).includes(value) || ransomPaymentNumber(value) !== undefined;
}

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/**
 * - `initial` reports must be filed before an incident can be resolved;
 * - `final` reports close the regime's clock after it.
 */
export type ObligationPhase = 'initial' | 'final';

export interface ObligationSpec {
  readonly id: ObligationId;
  readonly regime: Regime;
  readonly title: string;
  readonly phase: ObligationPhase;
  /** Reminders go out this long before the deadline. */
  readonly remindBeforeMs: readonly number[];
}

export const OBLIGATIONS: {
  readonly [K in (typeof OBLIGATION_IDS)[number]]: ObligationSpec & { readonly id: K };
} = {
  'nis2-early-warning': {
    id: 'nis2-early-warning',
    regime: 'NIS2',
    title: 'NIS2 early warning (24 h)',
    phase: 'initial',
    remindBeforeMs: [12 * HOUR, 2 * HOUR],
  },
  'nis2-incident-notification': {
    id: 'nis2-incident-notification',
    regime: 'NIS2',
    title: 'NIS2 incident notification (72 h)',
    phase: 'initial',
    remindBeforeMs: [24 * HOUR, 4 * HOUR],
  },
  'nis2-progress-report': {
    id: 'nis2-progress-report',
    regime: 'NIS2',
    title: 'NIS2 progress report (incident ongoing one month after the notification)',
    phase: 'final',
    remindBeforeMs: [7 * DAY, 1 * DAY],
  },
  'nis2-final-report': {
    id: 'nis2-final-report',
    regime: 'NIS2',
    title: 'NIS2 final report (one month)',
    phase: 'final',
    remindBeforeMs: [7 * DAY, 1 * DAY],
  },
  'circia-incident-report': {
    id: 'circia-incident-report',
    regime: 'CIRCIA',
    title: 'CIRCIA covered cyber incident report (72 h)',
    phase: 'initial',
    remindBeforeMs: [24 * HOUR, 4 * HOUR],
  },
  'circia-ransom-payment-report': {
    id: 'circia-ransom-payment-report',
    regime: 'CIRCIA',
    title: 'CIRCIA ransom payment report (24 h after payment)',
    phase: 'initial',
    remindBeforeMs: [12 * HOUR, 2 * HOUR],
  },
  'cer-initial-notification': {
    id: 'cer-initial-notification',
    regime: 'CER',
    title: 'CER incident notification (24 h)',
    phase: 'initial',
    remindBeforeMs: [12 * HOUR, 2 * HOUR],
  },
  'cer-detailed-report': {
    id: 'cer-detailed-report',
    regime: 'CER',
    title: 'CER detailed report (one month after the notification)',
    phase: 'final',
    remindBeforeMs: [7 * DAY, 1 * DAY],
  },
};

/** What an obligation is, the numbered ransom payment reports included. */
export function obligationSpec(id: ObligationId): ObligationSpec {
  const n = ransomPaymentNumber(id);
  if (n === undefined || n === 1) return OBLIGATIONS[id as (typeof OBLIGATION_IDS)[number]];
  return {
    ...OBLIGATIONS[RANSOM_REPORT],
    id,
    title: `CIRCIA ransom payment report for payment ${n} (24 h after payment)`,
  };
}

/** Sectors of the CER Directive's annex as CISA sectors. */
export const CER_SECTORS: ReadonlySet<Sector> = new Set<Sector>([
  'energy',
  'nuclear',
  'transportation-systems',
  'financial-services',
  'healthcare-and-public-health',
  'water-and-wastewater',
  'communications',
  'information-technology',
  'government-facilities',
  'food-and-agriculture',
]);

/**
 * Sectors under NIS2 (Annexes I and II) as CISA sectors: every CER sector (NIS2 covers CER's
 * critical entities, Art. 2(3)) and chemicals and manufacturing (Annex II). Left out: dams,
 * commercial facilities and emergency services, which NIS2 does not list, and the defence
 * industrial base, which it excludes (Art. 2(7)). Nuclear generation is electricity production
 * (Annex I).
 */
export const NIS2_SECTORS: ReadonlySet<Sector> = new Set<Sector>([
  ...CER_SECTORS,
  'chemical',
  'critical-manufacturing',
]);

/**
 * Beacon's reading of each regime's size test, on the NCISS-aligned level (0–5):
 * - NIS2 "significant incident": Medium (2) or above;
 * - CIRCIA "substantial" (covered) cyber incident: High (3) or above;
 * - CER "significant disruption" of an essential service: High (3) or above, or a functional
 *   impact of at least a significant loss of a critical service, whatever the level.
 */
export const REGULATORY_THRESHOLDS = {
  nis2Level: 2,
  circiaLevel: 3,
  cerLevel: 3,
  cerFunctionalImpact: 'significant-critical',
} as const;

/** What applicability depends on. */
export interface RegulatoryFacts {
  readonly jurisdictions: readonly string[];
  readonly sectors: readonly string[];
  /** NCISS level 0–5. */
  readonly ncissLevel: number;
  /** An NCISS functional-impact category, when known. */
  readonly functionalImpact?: string;
  /** When a ransom was paid, if one was: the first payment. */
  readonly ransomPaidAtMs?: number;
  /** Every payment, in the order recorded, once there is more than one (`ransomPayments`). */
  readonly ransomPaymentsAtMs?: readonly number[];
  /**
   * The (sector, jurisdiction) places the incident touches (`places.ts`). When given, a regime
   * applies for a place in its territory and one of its sectors — energy reached in a third
   * country does not bring NIS2 because the reports also name a member state — and
   * `jurisdictions` and `sectors` are not read.
   */
  readonly places?: readonly Place[];
}

export interface Applicability {
  readonly regime: Regime;
  /** The obligations that apply, in the order they fall due. */
  readonly obligations: readonly ObligationId[];
  /** Why the regime applies, in words for the coordinator. */
  readonly reasons: readonly string[];
}

/** Where an incident falls for the regimes: the territories and sectors each regime reads. */
export interface RegimeScope {
  /** EU member states with a NIS2 or CER sector touched (by place), or named (by lists). */
  readonly eu: readonly string[];
  readonly us: boolean;
  /** Sectors touched in the United States (by place), or named (by lists). */
  readonly sectors: readonly string[];
  readonly nis2Sectors: readonly string[];
  readonly cerSectors: readonly string[];
}

/** The territories and sectors of `facts` each regime reads, by place when places are known. */
export function regimeScope(facts: RegulatoryFacts): RegimeScope {
  const countryOfText = (j: string | undefined) => {
    const parsed = j === undefined ? undefined : parseJurisdiction(j);
    return parsed ? countryOf(parsed) : undefined;
  };
  const isEu = (j: string | undefined) => EU_MEMBER_STATES.has(countryOfText(j) ?? '');
  const uniq = (list: readonly (string | undefined)[]) =>
    [...new Set(list.filter((x): x is string => x !== undefined))].sort();
  const nis2 = (s: string) => NIS2_SECTORS.has(s as Sector);
  const cer = (s: string) => CER_SECTORS.has(s as Sector);
  const isUs = (j: string | undefined) => countryOfText(j) === 'US';
  if (facts.places) {
    // Each regime's territory and sectors, read from one place at a time.
    const pairs: readonly Place[] = facts.places;
    const within = (territory: (j: string | undefined) => boolean, inSector: (s: string) => boolean) =>
      pairs.filter((p) => territory(p.jurisdiction) && p.sector !== undefined && inSector(p.sector));
    const nis2Places = within(isEu, nis2);
    const cerPlaces = within(isEu, cer);
    const usPlaces = within(isUs, () => true);
    return {
      eu: uniq([...nis2Places, ...cerPlaces].map((p) => countryOfText(p.jurisdiction))),
      nis2Sectors: uniq(nis2Places.map((p) => p.sector)),
      cerSectors: uniq(cerPlaces.map((p) => p.sector)),
      us: usPlaces.length > 0,
      sectors: uniq(usPlaces.map((p) => p.sector)),
    };
  }
  const countries = new Set(uniq(facts.jurisdictions.map(countryOfText)));
  const sectors = [...new Set(facts.sectors)].sort();
  return {
    eu: [...countries].filter((c) => EU_MEMBER_STATES.has(c)).sort(),
    us: countries.has('US'),
    sectors,
    nis2Sectors: sectors.filter(nis2),
    cerSectors: sectors.filter(cer),
  };
}

/** Whether the functional impact reaches CER's "significant disruption" on its own. */
export function severeFunctionalImpact(functionalImpact: string | undefined): boolean {
  const functional = NCISS_INPUTS.functionalImpact as readonly string[];
  return (
    functionalImpact !== undefined &&
    functional.indexOf(functionalImpact) >= functional.indexOf(REGULATORY_THRESHOLDS.cerFunctionalImpact)
  );
}

/** The regimes that apply to an incident with these facts, each with its obligations. */
export function applicableRegimes(facts: RegulatoryFacts): Applicability[] {
  const { eu, us, sectors, nis2Sectors, cerSectors } = regimeScope(facts);
  const result: Applicability[] = [];

  if (eu.length > 0 && nis2Sectors.length > 0 && facts.ncissLevel >= REGULATORY_THRESHOLDS.nis2Level) {
    result.push({
      regime: 'NIS2',
      obligations: [
        'nis2-early-warning',
        'nis2-incident-notification',
        'nis2-progress-report',
        'nis2-final-report',
      ],
      reasons: [
        `EU member state(s) ${eu.join(', ')}`,
        `NIS2 sector(s) ${nis2Sectors.join(', ')}`,
        `significant: NCISS level ${facts.ncissLevel} ≥ ${REGULATORY_THRESHOLDS.nis2Level}`,
      ],
    });
  }

  // CIRCIA covers entities in any critical-infrastructure sector, which every CISA sector is.
  if (us && sectors.length > 0) {
    const covered = facts.ncissLevel >= REGULATORY_THRESHOLDS.circiaLevel;
    const payments = ransomPayments(facts).length;
    const ransom = payments > 0;
    if (covered || ransom) {
      result.push({
        regime: 'CIRCIA',
        obligations: [
          ...(covered ? (['circia-incident-report'] as const) : []),
          // One report for each payment.
          ...Array.from({ length: payments }, (_, i) => ransomReportId(i + 1)),
        ],
        reasons: [
          'United States',
          `critical-infrastructure sector(s) ${sectors.join(', ')}`,
          ...(covered
            ? [`covered: NCISS level ${facts.ncissLevel} ≥ ${REGULATORY_THRESHOLDS.circiaLevel}`]
            : []),
          ...(payments === 1 ? ['a ransom was paid'] : []),
          ...(payments > 1 ? [`${payments} ransom payments were made`] : []),
        ],
      });
    }
  }

  if (eu.length > 0 && cerSectors.length > 0) {
    const severeFunction = severeFunctionalImpact(facts.functionalImpact);
    if (severeFunction || facts.ncissLevel >= REGULATORY_THRESHOLDS.cerLevel) {
      result.push({
        regime: 'CER',
        obligations: ['cer-initial-notification', 'cer-detailed-report'],
        reasons: [
          `EU member state(s) ${eu.join(', ')}`,
          `CER sector(s) ${cerSectors.join(', ')}`,
          severeFunction
            ? `significant disruption: functional impact ${facts.functionalImpact}`
            : `significant disruption: NCISS level ${facts.ncissLevel} ≥ ${REGULATORY_THRESHOLDS.cerLevel}`,
        ],
      });
    }
  }
  return result;
}

/** What a regime's deadlines depend on as the response goes on. */
export interface ClockFacts {
  readonly awareAtMs: number;
  /** The first ransom payment; `ransomPaymentsAtMs` lists every one once there are more. */
  readonly ransomPaidAtMs?: number;
  readonly ransomPaymentsAtMs?: readonly number[];
  /** When the incident was resolved, once it is. */
  readonly resolvedAtMs?: number;
  /** When each report was filed. */
  readonly filedAtMs: Readonly<Partial<Record<ObligationId, number>>>;
}

export interface ScheduledObligation extends ObligationSpec {
  /** Undefined while it cannot be known yet (a final report due one month after resolution). */
  readonly dueAtMs: number | undefined;
}

/**
 * The deadlines of a regime's applicable obligations, given what has happened so far. A
 * filed obligation keeps its deadline (to show whether it was late). NIS2's progress report is
 * listed while the incident may still be ongoing when it falls due, and dropped once the
 * incident was resolved before then.
 */
export function scheduleObligations(
  obligations: readonly ObligationId[],
  facts: ClockFacts,
): ScheduledObligation[] {
  const applies = new Set(obligations);
  const { awareAtMs, filedAtMs, resolvedAtMs } = facts;
  const out: ScheduledObligation[] = [];
  const add = (id: ObligationId, dueAtMs: number | undefined) => {
    if (applies.has(id)) out.push({ ...obligationSpec(id), dueAtMs });
  };

  add('nis2-early-warning', awareAtMs + 24 * HOUR);
  add('nis2-incident-notification', awareAtMs + 72 * HOUR);
  if (applies.has('nis2-final-report')) {
    const notificationDue = awareAtMs + 72 * HOUR;
    // One month after the notification was submitted; until it is, after it was due.
    const monthAfter = addMonthsUtc(filedAtMs['nis2-incident-notification'] ?? notificationDue, 1);
    const resolvedInTime = resolvedAtMs !== undefined && resolvedAtMs <= monthAfter;
    if (resolvedInTime) {
      add('nis2-final-report', monthAfter);
    } else {
      add('nis2-progress-report', monthAfter);
      add('nis2-final-report', resolvedAtMs === undefined ? undefined : addMonthsUtc(resolvedAtMs, 1));
    }
  }
  add('circia-incident-report', awareAtMs + 72 * HOUR);
  // Each payment's report is due 24 hours after that payment.
  ransomPayments(facts).forEach((paidAtMs, i) => add(ransomReportId(i + 1), paidAtMs + 24 * HOUR));
  const cerInitialDue = awareAtMs + 24 * HOUR;
  add('cer-initial-notification', cerInitialDue);
  add('cer-detailed-report', addMonthsUtc(filedAtMs['cer-initial-notification'] ?? cerInitialDue, 1));
  return out.sort((a, b) => (a.dueAtMs ?? Infinity) - (b.dueAtMs ?? Infinity));
}

/**
 * Whether the obligation must be filed before the incident may be resolved: every initial
 * report, and a progress report once it has fallen due.
 */
export function mustFileBeforeResolving(obligation: ScheduledObligation, nowMs: number): boolean {
  if (obligation.phase === 'initial') return true;
  return (
    obligation.id === 'nis2-progress-report' &&
    obligation.dueAtMs !== undefined &&
    obligation.dueAtMs <= nowMs
  );
}

/** The same instant `months` calendar months later (UTC); the 31st becomes the month's last day. */
export function addMonthsUtc(ms: number, months: number): number {
  const date = new Date(ms);
  const year = date.getUTCFullYear();
  const month = date.getUTCMonth() + months;
  const lastDay = new Date(Date.UTC(year, month + 1, 0)).getUTCDate();
  return Date.UTC(
    year,
    month,
    Math.min(date.getUTCDate(), lastDay),
    date.getUTCHours(),
    date.getUTCMinutes(),
    date.getUTCSeconds(),
    date.getUTCMilliseconds(),
  );
}

/** What Beacon knows when it drafts a report. */
export interface DraftFacts {
  readonly incidentId: string;
  readonly title: string;
  readonly rsitClass: string;
  readonly rsitType: string;
  readonly sectors: readonly string[];
  readonly jurisdictions: readonly string[];
  readonly ncissScore: number;
  readonly ncissLevel: number;
  readonly tlp: string;
  readonly awareAtMs: number;
  /** The classification suggests a crime (unlawful or malicious act). */
  readonly criminalSuspected: boolean;
  readonly impact?: {
    readonly impactedAssets: number;
    readonly populationAffected: number;
    readonly sectorsReached: readonly string[];
    readonly jurisdictionsReached: readonly string[];
  };
  readonly ransomPaidAtMs?: number;
  /** Every payment, in the order recorded, once there is more than one. */
  readonly ransomPaymentsAtMs?: readonly number[];
  readonly engagedAgencyIds: readonly string[];
  readonly resolvedAtMs?: number;
  readonly resolutionSummary?: string;
}

/** Fields a coordinator must complete before filing: Beacon cannot know them. */
const TO_COMPLETE = '(to complete)';

/**
 * A draft of the report, prefilled with what Beacon knows, in the shape each regime asks for
 * (field names follow the legal text). The coordinator completes and files it.
 */
export function draftReport(id: ObligationId, facts: DraftFacts): Record<string, unknown> {
  const iso = (ms: number | undefined) => (ms === undefined ? undefined : new Date(ms).toISOString());
  const countries = [
    ...new Set(
      [...facts.jurisdictions, ...(facts.impact?.jurisdictionsReached ?? [])].flatMap((j) => {
        const parsed = parseJurisdiction(j);
        return parsed ? [countryOf(parsed)] : [];
      }),
    ),
  ].sort();
  const common = {
    obligation: id,
    regime: obligationSpec(id).regime,
    title: obligationSpec(id).title,
    incidentId: facts.incidentId,
    tlp: facts.tlp,
    awareAt: iso(facts.awareAtMs),
  };
  const impact = {
    severity: { ncissScore: facts.ncissScore, ncissLevel: facts.ncissLevel },
    sectors: facts.sectors,
    ...(facts.impact
      ? {
          impactedAssets: facts.impact.impactedAssets,
          populationAffected: facts.impact.populationAffected,
          sectorsReached: facts.impact.sectorsReached,
        }
      : {}),
  };
  const classification = { rsitClass: facts.rsitClass, rsitType: facts.rsitType };
  const payment = ransomPaymentNumber(id);
  if (payment !== undefined) {
    return {
      ...common,
      ...(payment > 1 ? { paymentNumber: payment } : {}),
      ransomPaidAt: iso(ransomPayments(facts)[payment - 1]),
      amountAndAsset: TO_COMPLETE,
      paymentInstructions: TO_COMPLETE,
    };
  }
  switch (id) {
    case 'nis2-early-warning':
      return {
        ...common,
        suspectedUnlawfulOrMalicious: facts.criminalSuspected,
        possibleCrossBorderImpact: countries.length > 1,
        memberStates: countries,
      };
    case 'nis2-incident-notification':
      return {
        ...common,
        initialAssessment: { ...impact, classification },
        indicatorsOfCompromise: `STIX 2.1 export of incident ${facts.incidentId}`,
        possibleCrossBorderImpact: countries.length > 1,
      };
    case 'nis2-progress-report':
      return { ...common, status: 'ongoing', assessment: impact, measuresSoFar: TO_COMPLETE };
    case 'nis2-final-report':
      return {
        ...common,
        description: facts.title,
        severityAndImpact: impact,
        typeOfThreatOrRootCause: classification,
        mitigationMeasures: facts.resolutionSummary ?? TO_COMPLETE,
        crossBorderImpact: countries,
        resolvedAt: iso(facts.resolvedAtMs),
      };
    case 'circia-incident-report':
      return {
        ...common,
        description: facts.title,
        functionalImpact: impact,
        vulnerabilitiesAndTactics: classification,
        indicatorsOfCompromise: `STIX 2.1 export of incident ${facts.incidentId}`,
        lawEnforcementEngaged: facts.criminalSuspected,
      };
    case 'cer-initial-notification':
      return {
        ...common,
        natureAndCause: classification,
        affected: impact,
        possibleCrossBorderImpact: countries.length > 1,
        memberStates: countries,
      };
    case 'cer-detailed-report':
      return {
        ...common,
        description: facts.title,
        disruption: impact,
        measures: facts.resolutionSummary ?? TO_COMPLETE,
        memberStates: countries,
      };
    case RANSOM_REPORT:
    default:
      // Ransom payment reports were drafted above.
      return common;
  }
}
