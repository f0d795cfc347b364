import {
  isRsitClass,
  isSector,
  type Jurisdiction,
  type NcissLevel,
  parseJurisdiction,
  RSIT_CLASSES,
  type RsitClass,
  type Sector,
} from '@beacon/domain';
import { AGENCY_ID_PATTERN, type Problem } from './agency.js';

/**
 * What an agency asks to hear about. Each filter narrows: an event must pass every filter that
 * is set. A filter that is absent or an empty list places no constraint, as a protobuf repeated
 * field that was left out arrives empty. Whatever the filters say, TLP and engagement rules
 * (see `matching.ts`) decide first.
 */
export interface Subscription {
  readonly id: string;
  readonly agencyId: string;
  /** `domain.event` (e.g. `incident.opened`), or `domain.*` for every event of a domain. */
  readonly eventTypes?: readonly string[];
  readonly rsitClasses?: readonly RsitClass[];
  /**
   * With `jurisdictions`: an event passes when one place its incident touches (a sector in a
   * jurisdiction, `@beacon/domain`'s places) is in one of these sectors and within one of these
   * jurisdictions (`DE` takes `DE-BY`) — the same place for both, never one place's sector
   * and another's jurisdiction.
   */
  readonly sectors?: readonly Sector[];
  readonly jurisdictions?: readonly Jurisdiction[];
  /** The places matched: those the reports name, or those and the ones the cascade reaches (the default). */
  readonly reach?: SubscriptionReach;
  /** 0 lets everything through, unscored events included; above 0 an unscored event fails. */
  readonly minNcissLevel?: NcissLevel;
  readonly incidentIds?: readonly string[];
}

export type SubscriptionReach = 'named' | 'named-and-reached';

/** A subscription as it arrives from outside, before validation. */
export interface SubscriptionInput {
  readonly id: string;
  readonly agencyId: string;
  readonly eventTypes?: readonly string[];
  readonly rsitClasses?: readonly string[];
  readonly sectors?: readonly string[];
  readonly jurisdictions?: readonly string[];
  readonly minNcissLevel?: number;
  readonly incidentIds?: readonly string[];
  readonly reach?: SubscriptionReach;
}

/** Bounds that keep matching cheap: it runs for every subscription on every event. */
export const SUBSCRIPTION_LIMITS = {
  eventTypes: 50,
  rsitClasses: 11,
  sectors: 16,
  jurisdictions: 50,
  incidentIds: 500,
} as const;

const SUBSCRIPTION_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const EVENT_TYPE_PATTERN = /^[a-z][a-z0-9-]*\.(\*|[a-z][a-z0-9-]*)$/;

/** Whether `type` (`domain.event`) is one the pattern names: equal, or `domain.*`. */
export function eventTypeMatches(pattern: string, type: string): boolean {
  return pattern.endsWith('.*') ? type.startsWith(pattern.slice(0, -1)) : pattern === type;
}

/** Everything wrong with a subscription, or an empty list. */
export function subscriptionProblems(input: SubscriptionInput): Problem[] {
  const problems: Problem[] = [];
  const check = (field: keyof typeof SUBSCRIPTION_LIMITS, bad: (entry: string) => string | undefined) => {
    const list = input[field] ?? [];
    if (list.length > SUBSCRIPTION_LIMITS[field]) {
      problems.push({ field, message: `at most ${SUBSCRIPTION_LIMITS[field]} entries` });
    }
    list.forEach((entry, i) => {
      const message = bad(entry);
      if (message) problems.push({ field: `${field}[${i}]`, message });
    });
  };
  if (!SUBSCRIPTION_ID_PATTERN.test(input.id)) {
    problems.push({ field: 'id', message: 'must be 1–64 letters, digits, dots, hyphens or underscores' });
  }
  if (!AGENCY_ID_PATTERN.test(input.agencyId))
    problems.push({ field: 'agencyId', message: 'is not an agency id' });
  check('eventTypes', (t) => (EVENT_TYPE_PATTERN.test(t) ? undefined : 'must be domain.event or domain.*'));
  check('rsitClasses', (c) =>
    isRsitClass(c) ? undefined : `is not an RSIT class: one of ${RSIT_CLASSES.join(', ')}`,
  );
  check('sectors', (s) => (isSector(s) ? undefined : 'is not a CISA sector id'));
  check('jurisdictions', (j) =>
    parseJurisdiction(j) === j ? undefined : 'is not an upper-case ISO 3166 code (e.g. DE, DE-BY)',
  );
  check('incidentIds', (id) => (id.trim() === '' ? 'must not be empty' : undefined));
  const level = input.minNcissLevel;
  if (level !== undefined && !(Number.isInteger(level) && level >= 0 && level <= 5)) {
    problems.push({ field: 'minNcissLevel', message: 'must be a whole number from 0 to 5' });
  }
  return problems;
}

/** The subscription, typed, when it has no problems. */
export function parseSubscription(
  input: SubscriptionInput,
):
  | { readonly ok: true; readonly subscription: Subscription }
  | { readonly ok: false; readonly problems: Problem[] } {
  const problems = subscriptionProblems(input);
  // Every narrowing below is what the checks above established.
  return problems.length > 0 ? { ok: false, problems } : { ok: true, subscription: input as Subscription };
}
