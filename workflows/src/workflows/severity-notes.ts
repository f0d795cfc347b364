import { setHandler } from '@temporalio/workflow';
import { proposalText } from '../domain/severity-origins.js';
import { severityProposedSignal, type TimelineEntry } from './definitions.js';

/**
 * Puts on the response's timeline the severity inputs other agencies' joining reports proposed
 * and intake kept without applying (see `severityProposedSignal`), once per report: the
 * coordinator decides whether to take them (ChangeSeverity).
 */
export function noteSeverityProposals(note: (entry: Omit<TimelineEntry, 'atMs'>) => void): void {
  const noted = new Set<string>();
  setHandler(severityProposedSignal, (proposal) => {
    if (noted.has(proposal.reportId)) return;
    noted.add(proposal.reportId);
    note({
      kind: 'severity',
      ...(proposal.agencyId ? { agencyId: proposal.agencyId } : {}),
      detail: proposalText(proposal),
    });
  });
}
