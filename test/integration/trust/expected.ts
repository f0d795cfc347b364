/**
 * What Beacon must answer, written out by hand from `../shared/TRUST-MODEL.md` and issue 19,
 * deliberately NOT computed with `@beacon/domain`'s trust policy: the suite has to catch a wrong
 * policy as well as a service that forgets to ask it. Every rule cites the sentence it comes
 * from. Where the model leaves a role's rights to the service (who may file, acknowledge, read
 * feeds or assessments at all), the rule is the one the service's contract documents.
 */

export const LABELS = ['CLEAR', 'GREEN', 'AMBER', 'AMBER+STRICT', 'RED'] as const;
export type Label = (typeof LABELS)[number];

export const ROLES = ['coordinator', 'auditor', 'agency_analyst', 'agency_admin', 'victim_officer'] as const;
export type CallerRole = (typeof ROLES)[number];

/**
 * Where the caller's agency stands on the incident: never engaged, engaged now, or engaged and
 * then removed (UnassignAgency). The coordination centre has no agency: `centre`.
 */
export const ENGAGEMENTS = ['never', 'engaged', 'removed'] as const;
export type Engagement = (typeof ENGAGEMENTS)[number] | 'centre';

export const OPERATIONS = [
  'get',
  'list',
  'search',
  'export',
  'feed-replay',
  'stream',
  'submit-correlated',
  'acknowledge',
  'assessment',
  'response',
] as const;
export type Operation = (typeof OPERATIONS)[number];

export interface Caller {
  readonly role: CallerRole;
  readonly clearance: Label;
  readonly engagement: Engagement;
}

/** TLP 2.0 order, least to most restrictive. */
const rank = (label: Label) => LABELS.indexOf(label);

const CENTRE: readonly CallerRole[] = ['coordinator', 'auditor'];

/**
 * The reading rule. "A caller may read an object when its clearance is at least the object's
 * label **and** either the label is CLEAR or GREEN, or the caller is a named recipient of the
 * object now: the source agency; an engaged agency, while it is engaged; the coordination
 * centre, within their clearance." The fixture incidents are opened by a coordinator, so no
 * agency is their source. Auditors belong to the centre: the issue names them with coordinators
 * as the roles whose clearance was ignored ("Clearance is ignored for coordinators, auditors").
 */
export function mayRead(caller: Caller, label: Label): boolean {
  // "The clearance bounds every role, coordinators and auditors included."
  if (rank(label) > rank(caller.clearance)) return false;
  if (CENTRE.includes(caller.role)) return true;
  // CLEAR and GREEN: the whole community.
  if (label === 'CLEAR' || label === 'GREEN') return true;
  // "An agency removed from an incident ... can no longer read that incident's content above
  // GREEN": only an agency engaged now is named.
  return caller.engagement === 'engaged';
}

/**
 * Whether a role may do an operation at all, whatever the object (so a refusal for the role is
 * no oracle: it is the same for every id). These are the services' documented role rules.
 */
export function roleMay(role: CallerRole, operation: Operation): boolean {
  switch (operation) {
    case 'get':
    case 'list':
    case 'search':
    case 'export':
      // The reading rule names no role: any caller with an agency, or the centre.
      return true;
    case 'feed-replay':
    case 'stream':
      // notify.proto: an agency's feed is read by its own analysts and admins; coordinators read
      // any agency's feed (here: the engaged agency's). Auditors and victim officers read none.
      return role === 'coordinator' || role === 'agency_analyst' || role === 'agency_admin';
    case 'submit-correlated':
      // intake: reports are filed by coordinators and by agencies' analysts and admins.
      return role === 'coordinator' || role === 'agency_analyst' || role === 'agency_admin';
    case 'acknowledge':
      // response.proto: "The agency (its own people) or a coordinator on its behalf acknowledges".
      return role === 'coordinator' || role === 'agency_analyst' || role === 'agency_admin';
    case 'assessment':
      // impact.proto: "coordinators and Beacon services see and assess all of them".
      return role === 'coordinator';
    case 'response':
      // response.proto: "The coordination centre reads every response within its clearance; an
      // agency's analysts and admins read the response of an incident their agency is engaged
      // on now". Victim officers read none.
      return role !== 'victim_officer';
  }
}

/**
 * The answer a cell must get:
 * - `allowed`: served, and the incident (or its content) is there;
 * - `hidden`: exactly the answer for a made-up id (no oracle), or the incident absent from the
 *   list / search / feed;
 * - `refused`: a plain refusal that may name the reason, because the caller may read the
 *   incident and so learns nothing new (acknowledging an incident one is not engaged on);
 * - `redacted`: served, with the objects above the caller's clearance left out and counted as
 *   withheld (assessments).
 * - `opens-own`: a correlated report opens an incident of its own, answered exactly as for an
 *   indicator seen nowhere, and the matched incident is unchanged.
 */
export type Outcome = 'allowed' | 'hidden' | 'refused' | 'redacted' | 'opens-own';

export function expected(caller: Caller, label: Label, operation: Operation): Outcome {
  if (!roleMay(caller.role, operation)) return 'hidden';
  const readable = mayRead(caller, label);
  switch (operation) {
    case 'get':
    case 'list':
    case 'search':
    case 'export':
    case 'feed-replay':
    case 'stream':
      // "Lists, searches, trends, exports (STIX, MISP, TAXII), feeds, streams, webhooks, e-mail,
      // replays ... all answer by this rule, evaluated when the data is read".
      return readable ? 'allowed' : 'hidden';
    case 'submit-correlated':
      // "A report never changes an incident its reporter cannot read ... the report opens an
      // incident of its own ... The reporter's answer is exactly what it would be for an
      // indicator seen nowhere." The probe report is CLEAR, never more restrictive.
      return readable ? 'allowed' : 'opens-own';
    case 'acknowledge':
      // "Only a named recipient with a role that allows it changes an incident"; "an object it
      // may not read and an object that does not exist get the same answer".
      if (!readable) return 'hidden';
      if (caller.engagement === 'engaged' || caller.engagement === 'centre') return 'allowed';
      return 'refused';
    case 'assessment':
      // An assessment is about its incident: who may not read the incident learns nothing of it
      // (no oracles). Issue 19, 4: "Assessments carry the most restrictive label of the assets
      // they name; a caller below it gets the assessment with those assets left out". Each
      // fixture assessment names one asset of every label, so it is RED.
      if (!readable) return 'hidden';
      return caller.clearance === 'RED' ? 'allowed' : 'redacted';
    case 'response':
      // Issue 21, 4: "Agency analysts can read the response of an incident they are engaged on
      // (within the trust model)": engaged now, not merely a reader of a GREEN incident, nor once
      // engaged. Anything else is "an object it may not read" (no oracles).
      if (!readable) return 'hidden';
      return caller.engagement === 'engaged' || caller.engagement === 'centre' ? 'allowed' : 'hidden';
  }
}

/** One line of the matrix, for test names and the summary. */
export function describeCell(caller: Caller, label: Label, operation: Operation): string {
  return `${caller.role}/${caller.clearance}/${caller.engagement} × ${label} × ${operation}`;
}
