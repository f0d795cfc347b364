import {
  controlCharacterProblem,
  isSector,
  type Jurisdiction,
  normaliseObservable,
  parseJurisdiction,
  type Sector,
  type Tlp,
  TLP_LEVELS,
} from '@beacon/domain';
import { webhookUrlProblem, type WebhookTargetOptions } from './ssrf.js';

/** An organisation that takes part in responses and receives events: the unit of clearance. */
export const AGENCY_KINDS = ['csirt', 'law-enforcement', 'regulator', 'operator', 'victim-support'] as const;
export type AgencyKind = (typeof AGENCY_KINDS)[number];

/** Contact roles in escalation order: an unanswered engagement moves to the next role up. */
export const CONTACT_ROLES = ['duty-officer', 'deputy', 'head', 'national-spoc'] as const;
export type ContactRole = (typeof CONTACT_ROLES)[number];

export interface Contact {
  readonly role: ContactRole;
  readonly name: string;
  readonly email?: string;
  /** E.164, e.g. `+4930123456`. */
  readonly phone?: string;
}

/**
 * A webhook signing secret. Several may be active at once so that a receiver can roll its
 * secret without a gap: the new one starts before the old one ends, and each delivery is signed
 * with every active secret.
 */
export interface WebhookSecret {
  readonly id: string;
  readonly secret: string;
  /** Active from this instant (inclusive); since ever when absent. */
  readonly notBefore?: Date;
  /** Active until this instant (exclusive); for ever when absent. */
  readonly notAfter?: Date;
}

export interface WebhookChannel {
  readonly url: string;
  readonly secrets: readonly WebhookSecret[];
}

export interface EmailChannel {
  readonly to: readonly string[];
}

/** Push channels besides the feed, which every agency has and which needs no configuration. */
export interface Channels {
  readonly webhook?: WebhookChannel;
  readonly email?: EmailChannel;
}

export interface Agency {
  readonly id: string;
  readonly name: string;
  readonly kind: AgencyKind;
  /** Where the agency has a remit, as ISO 3166 codes; `DE` covers `DE-BY`. */
  readonly jurisdictions: readonly Jurisdiction[];
  /** The critical-infrastructure sectors in its remit; a cross-sector agency lists all 16. */
  readonly sectors: readonly Sector[];
  /** The most restrictive TLP label it is cleared to receive. */
  readonly clearance: Tlp;
  /** The escalation chain, first contact first; roles never step down the order. */
  readonly contacts: readonly Contact[];
  readonly channels: Channels;
  /** Incidents the coordinator engaged it on: it is a named recipient of their information. */
  readonly engagedIncidentIds: readonly string[];
}

/** An agency as it arrives from outside, before validation: the same shape, loosely typed. */
export interface AgencyInput {
  readonly id: string;
  readonly name: string;
  readonly kind: string;
  readonly jurisdictions: readonly string[];
  readonly sectors: readonly string[];
  readonly clearance: string;
  readonly contacts: readonly {
    readonly role: string;
    readonly name: string;
    readonly email?: string;
    readonly phone?: string;
  }[];
  readonly channels: {
    readonly webhook?: { readonly url: string; readonly secrets: readonly WebhookSecret[] };
    readonly email?: { readonly to: readonly string[] };
  };
  readonly engagedIncidentIds: readonly string[];
}

/**
 * Bounds that keep an agency record small and its delivery fan-out predictable. Sixteen sectors
 * is all of them; three active secrets cover a rotation with one spare.
 */
export const AGENCY_LIMITS = {
  nameLength: 200,
  contacts: 10,
  jurisdictions: 20,
  sectors: 16,
  emailRecipients: 10,
  secrets: 10,
  activeSecrets: 3,
  minSecretLength: 32,
  maxSecretLength: 512,
  engagedIncidents: 10_000,
} as const;

/** Agency ids appear in NATS subjects (`beacon.feed.<agencyId>.…`), so no dots or wildcards. */
export const AGENCY_ID_PATTERN = /^[a-z0-9][a-z0-9-]{0,62}$/;
const SECRET_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

export interface Problem {
  /** Path to the offending field, e.g. `contacts[1].email`. */
  readonly field: string;
  readonly message: string;
}

export interface AgencyCheckOptions {
  /** Blocks a webhook URL's IP literal may name although not public (`WEBHOOK_ALLOW_CIDRS`). */
  readonly webhookAllow?: WebhookTargetOptions['allow'];
}

/**
 * Everything wrong with an agency record, or an empty list. Messages never quote a secret.
 */
export function agencyProblems(agency: AgencyInput, options: AgencyCheckOptions = {}): Problem[] {
  const problems: Problem[] = [];
  const problem = (field: string, message: string) => problems.push({ field, message });

  if (!AGENCY_ID_PATTERN.test(agency.id)) {
    problem('id', 'must be 1–63 lower-case letters, digits or hyphens, not starting with a hyphen');
  }
  if (agency.name.trim() === '') problem('name', 'must not be empty');
  const nameControl = controlCharacterProblem(agency.name);
  if (nameControl) problem('name', nameControl);
  if (agency.name.length > AGENCY_LIMITS.nameLength) {
    problem('name', `must be at most ${AGENCY_LIMITS.nameLength} characters`);
  }
  if (!(AGENCY_KINDS as readonly string[]).includes(agency.kind)) {
    problem('kind', `must be one of ${AGENCY_KINDS.join(', ')}`);
  }
  if (!(TLP_LEVELS as readonly string[]).includes(agency.clearance)) {
    problem('clearance', `must be one of ${TLP_LEVELS.join(', ')}`);
  }

  listProblems(problem, 'jurisdictions', agency.jurisdictions, AGENCY_LIMITS.jurisdictions, (j) =>
    parseJurisdiction(j) === j ? undefined : 'is not an upper-case ISO 3166 code (e.g. DE, DE-BY)',
  );
  listProblems(problem, 'sectors', agency.sectors, AGENCY_LIMITS.sectors, (s) =>
    isSector(s) ? undefined : 'is not a CISA sector id',
  );
  listProblems(
    problem,
    'engagedIncidentIds',
    agency.engagedIncidentIds,
    AGENCY_LIMITS.engagedIncidents,
    (id) => (id.trim() === '' ? 'must not be empty' : undefined),
  );

  contactProblems(problem, agency.contacts);
  const { webhook, email } = agency.channels;
  if (webhook) webhookProblems(problem, webhook, options.webhookAllow ?? []);
  if (email) {
    listProblems(problem, 'channels.email.to', email.to, AGENCY_LIMITS.emailRecipients, (to) =>
      normaliseObservable('email', to).ok ? undefined : 'is not an email address',
    );
    if (email.to.length === 0) problem('channels.email.to', 'must name at least one recipient');
  }
  return problems;
}

/** The agency, typed, when it has no problems. */
export function parseAgency(
  input: AgencyInput,
  options: AgencyCheckOptions = {},
): { readonly ok: true; readonly agency: Agency } | { readonly ok: false; readonly problems: Problem[] } {
  const problems = agencyProblems(input, options);
  // Every narrowing below is what the checks above established.
  return problems.length > 0 ? { ok: false, problems } : { ok: true, agency: input as Agency };
}

type Report = (field: string, message: string) => void;

/** Bounded, without duplicates, each entry checked by `entryProblem`. */
function listProblems(
  problem: Report,
  field: string,
  list: readonly string[],
  limit: number,
  entryProblem: (entry: string) => string | undefined,
): void {
  if (list.length > limit) problem(field, `at most ${limit} entries`);
  const seen = new Set<string>();
  list.forEach((entry, i) => {
    const message = entryProblem(entry);
    if (message) problem(`${field}[${i}]`, message);
    else if (seen.has(entry)) problem(`${field}[${i}]`, 'is listed twice');
    seen.add(entry);
  });
}

function contactProblems(problem: Report, contacts: AgencyInput['contacts']): void {
  if (contacts.length === 0) problem('contacts', 'needs at least one contact to notify and escalate to');
  if (contacts.length > AGENCY_LIMITS.contacts)
    problem('contacts', `at most ${AGENCY_LIMITS.contacts} contacts`);
  let previousRank = 0;
  contacts.forEach((contact, i) => {
    const field = `contacts[${i}]`;
    const rank = (CONTACT_ROLES as readonly string[]).indexOf(contact.role);
    if (rank < 0) {
      problem(`${field}.role`, `must be one of ${CONTACT_ROLES.join(', ')}`);
    } else {
      // Escalation goes up the chain; a head before the duty officer would wake the wrong person.
      if (rank < previousRank)
        problem(`${field}.role`, `${contact.role} may not follow ${CONTACT_ROLES[previousRank]}`);
      previousRank = Math.max(previousRank, rank);
    }
    if (contact.name.trim() === '') problem(`${field}.name`, 'must not be empty');
    const nameControl = controlCharacterProblem(contact.name);
    if (nameControl) problem(`${field}.name`, nameControl);
    if (!contact.email && !contact.phone) problem(field, 'needs an email address or a phone number');
    if (contact.email && !normaliseObservable('email', contact.email).ok) {
      problem(`${field}.email`, 'is not an email address');
    }
    if (contact.phone && !isE164(contact.phone)) {
      problem(`${field}.phone`, 'is not an E.164 number written as + and 8 to 15 digits');
    }
  });
}

/** Stored as dialled: the canonical form the shared phone rules produce, nothing else. */
function isE164(phone: string): boolean {
  const normalised = normaliseObservable('phone', phone);
  return normalised.ok && normalised.observable.value === phone;
}

function webhookProblems(problem: Report, webhook: WebhookChannel, allow: readonly string[]): void {
  const urlProblem = webhookUrlProblem(webhook.url, { allow });
  if (urlProblem) problem('channels.webhook.url', urlProblem);
  const { secrets } = webhook;
  if (secrets.length === 0) problem('channels.webhook.secrets', 'needs at least one signing secret');
  if (secrets.length > AGENCY_LIMITS.secrets) {
    problem('channels.webhook.secrets', `at most ${AGENCY_LIMITS.secrets} secrets`);
  }
  const ids = new Set<string>();
  secrets.forEach((secret, i) => {
    const field = `channels.webhook.secrets[${i}]`;
    if (!SECRET_ID_PATTERN.test(secret.id))
      problem(`${field}.id`, 'must be 1–64 letters, digits, dots, hyphens or underscores');
    else if (ids.has(secret.id)) problem(`${field}.id`, 'is used twice');
    ids.add(secret.id);
    if (secret.secret.length < AGENCY_LIMITS.minSecretLength) {
      problem(`${field}.secret`, `must be at least ${AGENCY_LIMITS.minSecretLength} characters`);
    }
    if (secret.secret.length > AGENCY_LIMITS.maxSecretLength) {
      problem(`${field}.secret`, `must be at most ${AGENCY_LIMITS.maxSecretLength} characters`);
    }
    if (secret.notBefore && secret.notAfter && secret.notBefore.getTime() >= secret.notAfter.getTime()) {
      problem(`${field}.notAfter`, 'must be later than notBefore');
    }
  });
  const overlap = maxActiveAtOnce(secrets);
  if (overlap > AGENCY_LIMITS.activeSecrets) {
    problem(
      'channels.webhook.secrets',
      `${overlap} secrets are active at the same time; at most ${AGENCY_LIMITS.activeSecrets} may be`,
    );
  }
}

/**
 * The largest number of secrets active at any one instant, over all time. Checking this rather
 * than the count active "now" keeps validation free of the clock and also catches a planned
 * rotation that would overlap too many secrets later. Intervals are half-open, so one secret
 * ending exactly when the next starts counts as a hand-over, not an overlap.
 */
export function maxActiveAtOnce(secrets: readonly WebhookSecret[]): number {
  const edges: [at: number, delta: number][] = [];
  for (const { notBefore, notAfter } of secrets) {
    const start = notBefore?.getTime() ?? -Infinity;
    const end = notAfter?.getTime() ?? Infinity;
    if (!(start < end)) continue; // never active
    edges.push([start, 1], [end, -1]);
  }
  // Ends before starts at the same instant: half-open intervals.
  edges.sort(([a, da], [b, db]) => a - b || da - db);
  let active = 0;
  let most = 0;
  for (const [, delta] of edges) {
    active += delta;
    most = Math.max(most, active);
  }
  return most;
}
