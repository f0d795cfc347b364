import { pagedListCommand } from '../command-kinds.js';
import { table, tlpName, truncate } from '../format.js';
import { UsageError } from '../io.js';
import { tokenClaims } from '../flags.js';
import { ROLES } from '../roles.js';

/** An agency's engagement in the proto3 JSON mapping (fields at their default are left out). */
export interface EngagementJson {
  readonly incidentId: string;
  readonly incidentTitle?: string;
  readonly tlp?: string;
  readonly phase?: string;
  readonly ncissLevel?: number;
  readonly state?: string;
  readonly reasons?: readonly string[];
  readonly startedAt?: string;
  readonly escalation?: {
    readonly contactRank?: number;
    readonly role?: string;
    readonly notifiedAgencyId?: string;
    readonly round?: number;
    readonly noticesSent?: number;
    readonly escalated?: boolean;
    readonly notifiedAt?: string;
  };
  readonly acknowledgeBy?: string;
  readonly acknowledgement?: { readonly at?: string; readonly via?: string; readonly by?: string };
  readonly regulatoryDeadlines?: readonly {
    readonly title?: string;
    readonly dueAt?: string;
    readonly state?: string;
  }[];
}

const AGENCY_ID = /^[a-z0-9][a-z0-9-]{0,62}$/;

const minute = (iso: string | undefined) => (iso ? `${iso.slice(0, 16).replace('T', ' ')}Z` : '');

/** Where the engagement stands, in the words a duty officer uses. */
function standing(e: EngagementJson): string {
  const ack = e.acknowledgement;
  if (ack?.at) return `acknowledged ${minute(ack.at)} via ${ack.via ?? '?'}${ack.by ? ` by ${ack.by}` : ''}`;
  if (e.acknowledgeBy) return `acknowledge by ${minute(e.acknowledgeBy)}`;
  return '';
}

/** The contact notified last; another agency's (a national SPOC) is named. */
function step(e: EngagementJson, agency: string): string {
  const s = e.escalation;
  if (!s?.role) return '';
  const other = s.notifiedAgencyId && s.notifiedAgencyId !== agency ? ` (${s.notifiedAgencyId})` : '';
  return `${s.role} #${s.contactRank ?? 0}, round ${s.round ?? 1}${s.escalated ? ', escalated' : ''}${other}`;
}

function nextDeadline(e: EngagementJson): string {
  const d = e.regulatoryDeadlines?.[0];
  if (!d) return '';
  const overdue = d.state === 'OBLIGATION_STATE_OVERDUE' ? ' OVERDUE' : '';
  return `${d.title ?? '?'} ${d.dueAt ? minute(d.dueAt) : '(date not known yet)'}${overdue}`;
}

/** One engagement of `agency` a line: where it stands, what is due next. */
export function engagementTable(engagements: readonly EngagementJson[], agency: string): string {
  if (engagements.length === 0) return 'no engagements\n';
  return table(
    ['INCIDENT', 'STATE', 'TLP', 'STEP', 'ACKNOWLEDGEMENT', 'NEXT REPORT DUE', 'TITLE'],
    engagements.map((e) => [
      e.incidentId,
      (e.state ?? 'ENGAGEMENT_STATE_UNSPECIFIED').replace(/^ENGAGEMENT_STATE_/, ''),
      tlpName(e.tlp),
      step(e, agency),
      standing(e),
      nextDeadline(e),
      truncate(e.incidentTitle ?? '', 40),
    ]),
  );
}

export const engagementsListCommand = pagedListCommand({
  name: 'engagements list',
  routes: ['GET /v1/agencies/{agency_id}/engagements'],
  synopsis: '[--agency ID] [--page-size N] [--page-token TOKEN] [--all]',
  summary:
    "an agency's engagements: state, escalation step, acknowledgement and its deadline, reports due " +
    "(your token's agency unless --agency; coordinators name any agency)",
  roles: ROLES.agencyReaders,
  options: { agency: { type: 'string' } },
  key: 'engagements',
  maxPageSize: 100,
  request(context) {
    const agency = context.string('agency') ?? tokenClaims(context).agencyId;
    if (!agency) {
      throw new UsageError('--agency is needed: the token names no agency (a coordinator names the agency)');
    }
    if (!AGENCY_ID.test(agency)) throw new UsageError(`--agency ${agency} is not an agency id`);
    return { path: `/v1/agencies/${encodeURIComponent(agency)}/engagements`, agency };
  },
  text: (engagements: readonly EngagementJson[], { agency }) => engagementTable(engagements, agency),
});
