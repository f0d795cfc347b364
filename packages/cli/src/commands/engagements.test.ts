import { describe, expect, it } from 'vitest';
import { engagementTable } from './engagements.js';

describe('the engagements table', () => {
  it('says where each engagement stands and which report is due next', () => {
    const text = engagementTable(
      [
        {
          incidentId: 'inc_a',
          incidentTitle: 'Water works intrusion',
          tlp: 'TLP_AMBER_STRICT',
          state: 'ENGAGEMENT_STATE_NOTIFIED',
          escalation: { role: 'duty-officer', notifiedAgencyId: 'cert-water', round: 1, noticesSent: 1 },
          acknowledgeBy: '2026-03-01T10:15:00.000Z',
          regulatoryDeadlines: [
            {
              title: 'NIS2 early warning',
              dueAt: '2026-03-02T09:00:00Z',
              state: 'OBLIGATION_STATE_OVERDUE',
            },
            { title: 'NIS2 incident notification', dueAt: '2026-03-04T09:00:00Z' },
          ],
        },
        {
          incidentId: 'inc_b',
          tlp: 'TLP_GREEN',
          state: 'ENGAGEMENT_STATE_ACKNOWLEDGED',
          escalation: {
            role: 'national-spoc',
            contactRank: 2,
            notifiedAgencyId: 'bsi',
            round: 2,
            escalated: true,
          },
          acknowledgement: { at: '2026-03-01T11:00:00Z', via: 'agency', by: 'duty-1' },
        },
      ],
      'cert-water',
    );
    const [header, a, b] = text.trimEnd().split('\n');
    expect(header).toMatch(/^INCIDENT\s+STATE\s+TLP\s+STEP\s+ACKNOWLEDGEMENT\s+NEXT REPORT DUE\s+TITLE$/);
    expect(a).toMatch(
      /^inc_a\s+NOTIFIED\s+AMBER\+STRICT\s+duty-officer #0, round 1\s+acknowledge by 2026-03-01 10:15Z\s+NIS2 early warning 2026-03-02 09:00Z OVERDUE\s+Water works intrusion$/,
    );
    // Another agency's contact (its national SPOC) is named; the acknowledgement says who.
    expect(b).toMatch(
      /^inc_b\s+ACKNOWLEDGED\s+GREEN\s+national-spoc #2, round 2, escalated \(bsi\)\s+acknowledged 2026-03-01 11:00Z via agency by duty-1$/,
    );
  });

  it('says so when there is nothing', () => {
    expect(engagementTable([], 'cert-water')).toBe('no engagements\n');
  });
});
