/**
 * How agencies, their subscriptions and support organisations read in a terminal. The JSON
 * types follow the proto3 JSON mapping, which leaves out fields at their default value.
 */
import { enumName } from './flags.js';
import { tableOf, tlpName, truncate } from './format.js';

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
  return tableOf(agencies, 'no agencies\n', [
    ['ID', (a) => a.id],
    ['KIND', (a) => enumName(a.kind, 'AGENCY_KIND_')],
    ['CLEARANCE', (a) => tlpName(a.clearance)],
    ['JURISDICTIONS', (a) => truncate(list(a.jurisdictions), 24)],
    ['SECTORS', (a) => truncate(list(a.sectors), 40)],
    ['CONTACTS', (a) => String(a.contacts?.length ?? 0)],
    ['VERSION', (a) => String(a.version ?? 0)],
    ['NAME', (a) => truncate(a.name ?? '', 40)],
  ]);
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
  return tableOf(subscriptions, 'no subscriptions\n', [
    ['ID', (s) => s.id],
    ['EVENTS', (s) => truncate(list(s.eventTypes, '*'), 32)],
    ['RSIT CLASSES', (s) => truncate(list(s.rsitClasses, '*'), 24)],
    ['SECTORS', (s) => truncate(list(s.sectors, '*'), 40)],
    ['JURISDICTIONS', (s) => truncate(list(s.jurisdictions, '*'), 24)],
    ['MIN LEVEL', (s) => String(s.minNcissLevel ?? 0)],
    ['REACH', (s) => reachName(s.reach)],
    ['INCIDENTS', (s) => truncate(list(s.incidentIds, '*'), 40)],
  ]);
}

/** The reach a subscription's places are matched with; unspecified is named-and-reached. */
export function reachName(reach: string | undefined): string {
  return !reach || reach === 'SUBSCRIPTION_REACH_UNSPECIFIED'
    ? 'named-and-reached'
    : enumName(reach, 'SUBSCRIPTION_REACH_');
}

export function organisationTable(organisations: readonly OrganisationJson[]): string {
  return tableOf(organisations, 'no support organisations\n', [
    ['ID', (o) => o.id],
    ['JURISDICTIONS', (o) => truncate(list(o.jurisdictions), 24)],
    ['LANGUAGES', (o) => truncate(list(o.languages), 16)],
    ['NEEDS', (o) => truncate(list(o.needsCovered?.map((n) => enumName(n, 'NEED_KIND_'))), 48)],
    ['CRISIS', (o) => (o.crisisCapable ? 'yes' : 'no')],
    ['PLACES', (o) => `${o.activeReferrals ?? 0}/${o.capacity ?? 0}`],
    ['ACCEPTING', (o) => (o.accepting ? 'yes' : 'no')],
    ['VERSION', (o) => String(o.version ?? 0)],
    ['NAME', (o) => truncate(o.name ?? '', 40)],
  ]);
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
