/**
 * A coordinator's escalation answers with the engagements as they stand after it: the command
 * signals each engagement to move on, then waits (briefly) for each to report its next notice,
 * or its end, back to the response. Histories recorded before this waited carry on without the
 * wait (`ESCALATE_REPORTS_PATCH`, asked only when an escalation was sent).
 */
import type { AgencyEngagementStatus } from './definitions.js';

export const ESCALATE_REPORTS_PATCH = 'escalate-answers-after';

/**
 * The longest an escalation waits for the engagements' reports; past it, it answers with what
 * it has (a notice still retrying against a notify service that is down, say).
 */
export const ESCALATION_REPORT_WAIT_MS = 10_000;

const waiting = (state: AgencyEngagementStatus['state']) => state === 'engaging' || state === 'notified';

/**
 * Whether the engagement that stood at `before` when it was escalated has reported the
 * escalation: a notice past the one it was waiting at (the first contact counts as sent when it
 * was still engaging), or its end (unacknowledged after the last contact, acknowledged, removed).
 */
export function escalationReported(
  before: AgencyEngagementStatus,
  now: AgencyEngagementStatus | undefined,
): boolean {
  if (!now || !waiting(now.state)) return true;
  const next = (before.state === 'engaging' ? Math.max(before.noticesSent, 1) : before.noticesSent) + 1;
  return now.noticesSent >= next;
}
