import { describe, expect, it } from 'vitest';
import { parseJurisdiction } from '@beacon/domain';
import type { NeedKind } from './model.js';
import { routeReferrals, type RoutableOrganisation, type RoutingRequest } from './referral-routing.js';

const j = (code: string) => parseJurisdiction(code)!;
const org = (id: string, overrides: Partial<RoutableOrganisation> = {}): RoutableOrganisation => ({
  id,
  name: id,
  jurisdictions: [j('DE')],
  languages: ['de'],
  needsCovered: ['financial-loss'],
  crisisCapable: false,
  capacity: 10,
  spare: 10,
  accepting: true,
  ...overrides,
});
const request = (overrides: Partial<RoutingRequest> = {}): RoutingRequest => ({
  jurisdiction: j('DE-BY'),
  language: 'de',
  needs: ['financial-loss'],
  crisis: false,
  exclude: new Set(),
  ...overrides,
});

describe('referral routing', () => {
  it('takes only organisations that accept, have a free place, serve the jurisdiction and are not involved yet', () => {
    const orgs = [
      org('closed', { accepting: false }),
      org('full', { spare: 0 }),
      org('france', { jurisdictions: [j('FR')] }),
      org('declined-before'),
      org('hessen', { jurisdictions: [j('DE-HE')] }),
      org('germany'),
    ];
    expect(routeReferrals(request({ exclude: new Set(['declined-before']) }), orgs)).toEqual({
      picks: [{ organisationId: 'germany', needs: ['financial-loss'], crisis: false, speaksLanguage: true }],
      uncovered: [],
      crisisUnplaced: false,
    });
  });

  it('covers several needs with as few organisations as it can, then prefers the language, then the region, then free places', () => {
    const orgs = [
      org('a-fin-only', { needsCovered: ['financial-loss'] }),
      org('b-broad', {
        needsCovered: ['financial-loss', 'identity-theft', 'data-exposure'],
        languages: ['en'],
      }),
      org('c-psych-national', { needsCovered: ['psychological-distress'] }),
      org('d-psych-bavaria', { needsCovered: ['psychological-distress'], jurisdictions: [j('DE-BY')] }),
      org('e-psych-busy', {
        needsCovered: ['psychological-distress'],
        jurisdictions: [j('DE-BY')],
        spare: 1,
      }),
    ];
    const result = routeReferrals(
      request({
        needs: ['financial-loss', 'identity-theft', 'data-exposure', 'psychological-distress', 'sextortion'],
      }),
      orgs,
    );
    expect(result.picks.map((p) => [p.organisationId, p.needs])).toEqual([
      ['b-broad', ['financial-loss', 'identity-theft', 'data-exposure']],
      ['d-psych-bavaria', ['psychological-distress']],
    ]);
    expect(result.picks[0]?.speaksLanguage).toBe(false);
    expect(result.uncovered).toEqual(['sextortion']);

    // Equal coverage: the one speaking the victim's language wins.
    const lang = routeReferrals(request({ language: 'tr' }), [
      org('a', { languages: ['de'] }),
      org('b', { languages: ['de', 'tr'] }),
    ]);
    expect(lang.picks.map((p) => p.organisationId)).toEqual(['b']);
  });

  it('sends a crisis first to a crisis-capable organisation, even one covering fewer needs, which also takes the needs it covers', () => {
    const needs: NeedKind[] = ['psychological-distress', 'financial-loss'];
    const result = routeReferrals(request({ crisis: true, needs }), [
      org('broad', { needsCovered: needs }),
      org('crisis-line', { crisisCapable: true, needsCovered: ['psychological-distress'] }),
    ]);
    expect(result.picks).toEqual([
      {
        organisationId: 'crisis-line',
        needs: ['psychological-distress'],
        crisis: true,
        speaksLanguage: true,
      },
      { organisationId: 'broad', needs: ['financial-loss'], crisis: false, speaksLanguage: true },
    ]);
    expect(result.crisisUnplaced).toBe(false);
  });

  it('says so when no crisis-capable organisation can take a crisis', () => {
    const result = routeReferrals(request({ crisis: true, needs: [] }), [
      org('full-crisis-line', { crisisCapable: true, spare: 0 }),
      org('ordinary'),
    ]);
    expect(result).toEqual({ picks: [], uncovered: [], crisisUnplaced: true });
  });

  it('decides the same way every time, by id at the last tie', () => {
    const orgs = [org('zeta'), org('alpha'), org('mid')];
    for (let i = 0; i < 3; i++) {
      expect(routeReferrals(request(), [...orgs].reverse()).picks[0]?.organisationId).toBe('alpha');
    }
  });
});
