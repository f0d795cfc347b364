/**
 * How agencies, their subscriptions and support organisations read in a terminal. The JSON
 * types follow the proto3 JSON mapping, which leaves out fields at their default value.
 */
import { enumName } from './flags.js';
import { table, tlpName, truncate } from './format.js';

export interface ContactJson {
  readonly role?: string;
  readonly name?: string;
  readonly email?: string;
  readonly phone?: string;
}

export interface AgencyJson {
  readonly id: string;
  readonly name?: string;
  readonly kind?: string;
  readonly jurisdictions?: readonly string[];
  readonly sectors?: readonly string[];
  readonly clearance?: string;
  readonly contacts?: readonly ContactJson[];
  readonly channels?: {
    readonly webhook?: { readonly url?: string; readonly secrets?: readonly { readonly id?: string }[] };
    readonly email?: { readonly to?: readonly string[] };
  };
  readonly version?: number;
}

export interface SubscriptionJson {
  readonly id: string;
  readonly agencyId?: string;
  readonly eventTypes?: readonly string[];
  readonly rsitClasses?: readonly string[];
  readonly sectors?: readonly string[];
  readonly jurisdictions?: readonly string[];
  readonly minNcissLevel?: number;
  readonly incidentIds?: readonly string[];
  readonly reach?: string;
}

export interface OrganisationJson {
  readonly id: string;
  readonly name?: string;
  readonly jurisdictions?: readonly string[];
  readonly languages?: readonly string[];
  readonly needsCovered?: readonly string[];
  readonly crisisCapable?: boolean;
  readonly capacity?: number;
  readonly accepting?: boolean;
  readonly activeReferrals?: number;
  readonly version?: number;
}

const list = (items: readonly string[] | undefined, empty = '-') =>
  items && items.length > 0 ? items.join(',') : empty;

/** `key: value` lines, the values aligned. */
export function fields(rows: readonly (readonly [string, string])[]): string[] {
  const width = Math.max(...rows.map(([key]) => key.length)) + 2;
  return rows.map(([key, value]) => `${`${key}:`.padEnd(width)}${value}`);
}

export function agencyTable(agencies: readonly AgencyJson[]): string {
  if (agencies.length === 0) return 'no agencies\n';
  return table(
    ['ID', 'KIND', 'CLEARANCE', 'JURISDICTIONS', 'SECTORS', 'CONTACTS', 'VERSION', 'NAME'],
    agencies.map((a) => [
      a.id,
      enumName(a.kind, 'AGENCY_KIND_'),
      tlpName(a.clearance),
      truncate(list(a.jurisdictions), 24),
      truncate(list(a.sectors), 40),
      String(a.contacts?.length ?? 0),
      String(a.version ?? 0),
      truncate(a.name ?? '', 40),
    ]),
  );
}

export function agencyDetails(agency: AgencyJson): string {
  const lines = fields([
    ['id', agency.id],
    ['name', agency.name ?? ''],
    ['kind', enumName(agency.kind, 'AGENCY_KIND_')],
    ['clearance', tlpName(agency.clearance)],
    ['jurisdictions', list(agency.jurisdictions, '(none)')],
    ['sectors', list(agency.sectors, '(none)')],
    ['version', String(agency.version ?? 0)],
  ]);
  const contacts = agency.contacts ?? [];
  lines.push(contacts.length === 0 ? 'contacts: (none)' : 'contacts (escalation order):');
  contacts.forEach((c, rank) =>
    lines.push(
      `  ${rank}  ${(c.role ?? '').padEnd(14)}${[c.name, c.email, c.phone].filter(Boolean).join('  ')}`,
    ),
  );
  const { webhook, email } = agency.channels ?? {};
  if (webhook?.url) {
    const ids = (webhook.secrets ?? []).map((s) => s.id).join(', ');
    lines.push(`webhook:  ${webhook.url}${ids ? ` (secrets ${ids})` : ''}`);
  }
  if (email?.to?.length) lines.push(`e-mail:   ${email.to.join(', ')}`);
  return `${lines.join('\n')}\n`;
}

export function subscriptionTable(subscriptions: readonly SubscriptionJson[]): string {
  if (subscriptions.length === 0) return 'no subscriptions\n';
  return table(
    ['ID', 'EVENTS', 'RSIT CLASSES', 'SECTORS', 'JURISDICTIONS', 'MIN LEVEL', 'REACH', 'INCIDENTS'],
    subscriptions.map((s) => [
      s.id,
      truncate(list(s.eventTypes, '*'), 32),
      truncate(list(s.rsitClasses, '*'), 24),
      truncate(list(s.sectors, '*'), 40),
      truncate(list(s.jurisdictions, '*'), 24),
      String(s.minNcissLevel ?? 0),
      reachName(s.reach),
      truncate(list(s.incidentIds, '*'), 40),
    ]),
  );
}

/** The reach a subscription's places are matched with; unspecified is named-and-reached. */
export function reachName(reach: string | undefined): string {
  return !reach || reach === 'SUBSCRIPTION_REACH_UNSPECIFIED'
    ? 'named-and-reached'
    : enumName(reach, 'SUBSCRIPTION_REACH_');
}

export function organisationTable(organisations: readonly OrganisationJson[]): string {
  if (organisations.length === 0) return 'no support organisations\n';
  return table(
    ['ID', 'JURISDICTIONS', 'LANGUAGES', 'NEEDS', 'CRISIS', 'PLACES', 'ACCEPTING', 'VERSION', 'NAME'],
    organisations.map((o) => [
      o.id,
      truncate(list(o.jurisdictions), 24),
      truncate(list(o.languages), 16),
      truncate(list(o.needsCovered?.map((n) => enumName(n, 'NEED_KIND_'))), 48),
      o.crisisCapable ? 'yes' : 'no',
      `${o.activeReferrals ?? 0}/${o.capacity ?? 0}`,
      o.accepting ? 'yes' : 'no',
      String(o.version ?? 0),
      truncate(o.name ?? '', 40),
    ]),
  );
}

export function organisationDetails(o: OrganisationJson): string {
  return `${fields([
    ['id', o.id],
    ['name', o.name ?? ''],
    ['jurisdictions', list(o.jurisdictions, '(none)')],
    ['languages', list(o.languages, '(none)')],
    [
      'needs covered',
      list(
        o.needsCovered?.map((n) => enumName(n, 'NEED_KIND_')),
        '(none)',
      ),
    ],
    ['crisis-capable', o.crisisCapable ? 'yes' : 'no'],
    ['capacity', `${o.capacity ?? 0} (${o.activeReferrals ?? 0} referrals held now)`],
    ['accepting', o.accepting ? 'yes' : 'no'],
    ['version', String(o.version ?? 0)],
  ]).join('\n')}\n`;
}
