import { describe, expect } from 'vitest';
import { victimsV1 } from '@beacon/proto';
import { test as base } from '@beacon/testkit';
import { newCase, startVictimsStack, type VictimsStack } from './harness.js';

const test = base.extend('stack', async ({ infra, names }, { onCleanup }): Promise<VictimsStack> => {
  const stack = await startVictimsStack(infra, names);
  onCleanup(() => stack.stop());
  return stack;
});

/** A victim with a financial loss and a PHQ-4 screening of 7 (a "moderate" band). */
const victim = (incidentId: string, n: number) =>
  newCase({
    incidentIds: [incidentId],
    victim: {
      kind: victimsV1.VictimKind.VICTIM_KIND_PERSON,
      displayName: `Victim ${n}`,
      organisationName: '',
      email: `victim${n}@example.org`,
      phone: '',
      preferredChannel: victimsV1.ContactChannel.CONTACT_CHANNEL_EMAIL,
      notes: '',
    },
  });

const count = (list: victimsV1.Count[], key: string) => list.find((c) => c.key === key);
/** Any screening band's name, anywhere in a response. */
const BANDS = /\b(none|mild|moderate|severe)\b/;

describe('statistics about people never single anyone out', () => {
  test('one victim: every count is suppressed and no screening band appears, to a coordinator or an auditor; six: the counts are shown; an erased case counts in the totals only', async ({
    stack: t,
  }) => {
    const officer = await t.call(['victim_officer'], 'vs-bayern');
    await officer('openCase', { case: victim('inc_alone', 0) });
    for (let n = 1; n <= 6; n++) await officer('openCase', { case: victim('inc_six', n) });
    const coordinator = await t.call(['coordinator']);
    const auditor = await t.call(['auditor']);

    for (const reader of [coordinator, auditor]) {
      const one = await reader('getVictimStats', { incidentId: 'inc_alone', jurisdiction: '' });
      expect(one).toMatchObject({
        cases: 0,
        casesSuppressed: true,
        suppressionThreshold: 5,
        byScreeningResult: [],
      });
      for (const list of [one.byStatus, one.byNeed, one.byJurisdiction, one.byLanguage]) {
        expect(list.length).toBeGreaterThan(0);
        expect(list.every((c) => c.suppressed && c.cases === 0)).toBe(true);
      }
      expect(one.losses.every((l) => l.suppressed && l.cases === 0)).toBe(true);
      expect(JSON.stringify(one)).not.toMatch(BANDS);
    }

    const six = await coordinator('getVictimStats', { incidentId: 'inc_six', jurisdiction: '' });
    expect(six).toMatchObject({ cases: 6, casesSuppressed: false, byScreeningResult: [] });
    expect(count(six.byNeed, 'psychological-distress')).toEqual({
      key: 'psychological-distress',
      cases: 6,
      suppressed: false,
    });
    expect(count(six.byNeed, 'financial-loss')).toMatchObject({ cases: 6, suppressed: false });
    expect(count(six.byStatus, 'open')).toMatchObject({ cases: 6, suppressed: false });
    expect(count(six.byJurisdiction, 'DE-BY')).toMatchObject({ cases: 6, suppressed: false });
    expect(JSON.stringify(six)).not.toMatch(BANDS);

    // Erase one of the six: it still counts among the cases, and no longer in any breakdown.
    const { cases } = await officer('listCases', {
      pageSize: 0,
      pageToken: '',
      incidentId: 'inc_six',
      urgentOnly: false,
      includeClosed: true,
    });
    await officer('eraseVictimData', { caseId: cases[0]!.id });
    const after = await coordinator('getVictimStats', { incidentId: 'inc_six', jurisdiction: '' });
    expect(after).toMatchObject({ cases: 6, casesSuppressed: false, erased: 0, erasedSuppressed: true });
    expect(count(after.byNeed, 'psychological-distress')).toMatchObject({ cases: 5, suppressed: false });
    expect(count(after.byStatus, 'closed')).toBeUndefined();
    // 6 cases = 1 erased + 5 open: the open count would give the erased one away by
    // subtraction, so it is suppressed with it
    expect(count(after.byStatus, 'open')).toMatchObject({ cases: 0, suppressed: true });
    expect(count(after.byJurisdiction, 'DE-BY')).toMatchObject({ suppressed: true });
  });
});
