import {
  compareTlp,
  type Jurisdiction,
  type NcissLevel,
  type RsitClass,
  type Sector,
  type Tlp,
  TLP_LEVELS,
} from '@beacon/domain';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Agency } from './agency.js';
import { type EventFacts, filterDenial, matches, recipients, tlpDecision } from './matching.js';
import type { Subscription } from './subscription.js';

const j = (...codes: string[]) => codes as Jurisdiction[];

const agency = (overrides: Partial<Agency> = {}): Agency => ({
  id: 'bnetza',
  name: 'Bundesnetzagentur',
  kind: 'regulator',
  jurisdictions: j('DE'),
  sectors: ['energy'],
  clearance: 'RED',
  contacts: [{ role: 'duty-officer', name: 'Desk', phone: '+4922814000' }],
  channels: {},
  engagedIncidentIds: [],
  ...overrides,
});

const facts = (overrides: Partial<EventFacts> = {}): EventFacts => ({
  id: 'evt-1',
  type: 'incident.opened',
  tlp: 'CLEAR',
  incidentId: 'inc-1',
  rsitClass: 'availability',
  sectors: ['energy'],
  jurisdictions: j('DE-BY'),
  ncissLevel: 3,
  occurredAt: new Date('2026-03-01T10:00:00Z'),
  ...overrides,
});

const everything: Subscription = { id: 'all', agencyId: 'bnetza' };

/**
 * The incident's recipients as the fan-out passes them: the agency counts as engaged on the
 * event's incident when its (test-only) list of engagements names it.
 */
const named = (a: Agency, f: EventFacts): EventFacts => ({
  ...f,
  engagedAgencyIds: a.engagedIncidentIds.includes(f.incidentId) ? [a.id] : [],
});

describe('the label decides first', () => {
  // The domain's reading rule (agencyMayReceive): within clearance, and CLEAR/GREEN or named.
  // Remit does not widen AMBER: who needs to know is the coordinator's call, made by engaging.
  // [label, clearance, engaged, concerned (DE-BY energy incident vs the agency's remit), expected]
  const concernedRemit = { jurisdictions: j('DE'), sectors: ['energy'] as Sector[] };
  const otherRemit = { jurisdictions: j('FR'), sectors: ['energy'] as Sector[] };
  it.each<[Tlp, Tlp, boolean, boolean, string]>([
    ['CLEAR', 'CLEAR', false, false, 'public'],
    ['GREEN', 'CLEAR', true, true, 'above-clearance'],
    ['GREEN', 'GREEN', false, false, 'community'],
    ['AMBER', 'GREEN', true, true, 'above-clearance'],
    ['AMBER', 'AMBER', true, false, 'named'],
    ['AMBER', 'AMBER', false, true, 'not-named'],
    ['AMBER', 'AMBER', false, false, 'not-named'],
    ['AMBER', 'RED', false, false, 'not-named'],
    ['AMBER+STRICT', 'AMBER', true, true, 'above-clearance'],
    ['AMBER+STRICT', 'AMBER+STRICT', true, false, 'named'],
    ['AMBER+STRICT', 'AMBER+STRICT', false, true, 'not-named'],
    ['AMBER+STRICT', 'RED', false, true, 'not-named'],
    ['RED', 'AMBER+STRICT', true, true, 'above-clearance'],
    ['RED', 'RED', true, false, 'named'],
    ['RED', 'RED', false, true, 'not-named'],
  ])(
    '%s to an agency cleared %s, engaged %s, concerned %s: %s',
    (tlp, clearance, engaged, concerned, expected) => {
      const a = agency({
        clearance,
        engagedIncidentIds: engaged ? ['inc-0', 'inc-1'] : ['inc-0'],
        ...(concerned ? concernedRemit : otherRemit),
      });
      const decision = matches(a, everything, named(a, facts({ tlp })));
      expect(decision.deliver ? decision.grant : decision.reason).toBe(expected);
      expect(tlpDecision(a, named(a, facts({ tlp })))).toEqual(decision);
    },
  );

  it('holds even when the subscription names the incident', () => {
    const byIncident: Subscription = { ...everything, incidentIds: ['inc-1'] };
    expect(matches(agency({ clearance: 'AMBER' }), byIncident, facts({ tlp: 'RED' }))).toEqual({
      deliver: false,
      reason: 'above-clearance',
    });
    expect(matches(agency(), byIncident, facts({ tlp: 'RED' }))).toEqual({
      deliver: false,
      reason: 'not-named',
    });
  });

  it('counts the source agency as named, like an engaged one', () => {
    expect(matches(agency(), everything, facts({ tlp: 'RED', sourceAgencyId: 'bnetza' }))).toEqual({
      deliver: true,
      grant: 'named',
    });
    expect(matches(agency(), everything, facts({ tlp: 'RED', sourceAgencyId: 'other' })).deliver).toBe(false);
  });

  it('never gives an agency a possible relation between incidents, even one it is named on', () => {
    const relation = facts({ type: 'incident.relation-found', tlp: 'CLEAR', engagedAgencyIds: ['bnetza'] });
    expect(matches(agency(), everything, relation)).toEqual({ deliver: false, reason: 'coordinators-only' });
    expect(matches(agency(), { ...everything, eventTypes: ['incident.*'] }, relation).deliver).toBe(false);
    // The same subscription receives the incident's other events.
    expect(matches(agency(), everything, { ...relation, type: 'incident.opened' }).deliver).toBe(true);
  });

  it('refuses a subscription that belongs to another agency', () => {
    expect(matches(agency(), { id: 's', agencyId: 'someone-else' }, facts())).toEqual({
      deliver: false,
      reason: 'foreign-subscription',
    });
  });
});

describe('filters', () => {
  const deny = (subscription: Omit<Subscription, 'id' | 'agencyId'>, f: Partial<EventFacts> = {}) => {
    const decision = matches(agency(), { ...everything, ...subscription }, facts(f));
    return decision.deliver ? 'deliver' : decision.reason;
  };

  it('on event type, exact or by domain', () => {
    expect(deny({ eventTypes: ['incident.opened'] })).toBe('deliver');
    expect(deny({ eventTypes: ['incident.*'] })).toBe('deliver');
    expect(deny({ eventTypes: ['impact.assessed', 'incident.resolved'] })).toBe('filter-event-type');
    expect(deny({ eventTypes: ['impact.*'] })).toBe('filter-event-type');
  });

  it('on RSIT class; an unclassified event fails a class filter', () => {
    expect(deny({ rsitClasses: ['availability', 'fraud'] })).toBe('deliver');
    expect(deny({ rsitClasses: ['fraud'] })).toBe('filter-rsit-class');
    expect(deny({ rsitClasses: ['availability'] }, { rsitClass: undefined })).toBe('filter-rsit-class');
  });

  it('on sectors, by any overlap', () => {
    expect(deny({ sectors: ['water-and-wastewater', 'energy'] })).toBe('deliver');
    expect(deny({ sectors: ['water-and-wastewater'] })).toBe('filter-sector');
    expect(deny({ sectors: ['energy'] }, { sectors: [] })).toBe('filter-sector');
  });

  it('on jurisdiction: a country takes its subdivisions, not the reverse', () => {
    expect(deny({ jurisdictions: j('DE') })).toBe('deliver');
    expect(deny({ jurisdictions: j('DE-BY') })).toBe('deliver');
    expect(deny({ jurisdictions: j('DE-BE') })).toBe('filter-jurisdiction');
    expect(deny({ jurisdictions: j('FR', 'DE') }, { jurisdictions: j('DE') })).toBe('deliver');
    expect(deny({ jurisdictions: j('DE-BY') }, { jurisdictions: j('DE') })).toBe('filter-jurisdiction');
    // `D` of `DE` is not a country prefix: only whole ISO codes count.
    expect(deny({ jurisdictions: j('DK') }, { jurisdictions: j('DK-84', 'DE') })).toBe('deliver');
  });

  it('on the places the cascade reaches, the sector and the jurisdiction of one place together', () => {
    // Communications named in UA and DE; the cascade took out energy in DE-NI only.
    const wiper = {
      sectors: ['communications'] as Sector[],
      jurisdictions: j('UA', 'DE'),
      placesReached: [{ sector: 'energy', jurisdiction: 'DE-NI' }],
    };
    expect(deny({ sectors: ['energy'], jurisdictions: j('DE') }, wiper)).toBe('deliver');
    // Energy in UA is neither named nor reached: no place is both.
    expect(deny({ sectors: ['energy'], jurisdictions: j('UA') }, wiper)).toBe('filter-jurisdiction');
    expect(deny({ sectors: ['energy'] }, wiper)).toBe('deliver');
    // A subscription to what the reports name only.
    expect(deny({ sectors: ['energy'], jurisdictions: j('DE'), reach: 'named' }, wiper)).toBe(
      'filter-sector',
    );
    expect(deny({ sectors: ['communications'], jurisdictions: j('DE'), reach: 'named' }, wiper)).toBe(
      'deliver',
    );
    // Before any assessment, only the named places count.
    expect(deny({ sectors: ['energy'], jurisdictions: j('DE') }, { ...wiper, placesReached: [] })).toBe(
      'filter-sector',
    );
  });

  it('on minimum NCISS level; unscored events pass only a minimum of 0', () => {
    expect(deny({ minNcissLevel: 3 })).toBe('deliver');
    expect(deny({ minNcissLevel: 4 })).toBe('filter-nciss-level');
    expect(deny({ minNcissLevel: 0 }, { ncissLevel: undefined })).toBe('deliver');
    expect(deny({ minNcissLevel: 1 }, { ncissLevel: undefined })).toBe('filter-nciss-level');
    expect(deny({ minNcissLevel: 1 }, { ncissLevel: 0 })).toBe('filter-nciss-level');
  });

  it('on incident ids', () => {
    expect(deny({ incidentIds: ['inc-9', 'inc-1'] })).toBe('deliver');
    expect(deny({ incidentIds: ['inc-9'] })).toBe('filter-incident');
  });

  it('takes empty lists as no filter, as protobuf sends them', () => {
    expect(
      deny(
        { eventTypes: [], rsitClasses: [], sectors: [], jurisdictions: [], incidentIds: [] },
        { rsitClass: undefined },
      ),
    ).toBe('deliver');
  });
});

describe('recipients', () => {
  const cleared = agency({ id: 'cleared', clearance: 'AMBER', jurisdictions: j('DE'), sectors: ['energy'] });
  const green = agency({ id: 'green-only', clearance: 'GREEN' });
  const elsewhere = agency({ id: 'elsewhere', clearance: 'AMBER', jurisdictions: j('FR') });
  const engaged = agency({ id: 'engaged', engagedIncidentIds: ['inc-1'], jurisdictions: j('FR') });
  const sub = (
    agencyId: string,
    id: string,
    rest: Omit<Subscription, 'id' | 'agencyId'> = {},
  ): Subscription => ({
    id,
    agencyId,
    ...rest,
  });

  it('decides once per candidate, in order, asserting every denial', () => {
    const decisions = recipients(
      [
        {
          agency: cleared,
          subscriptions: [sub('cleared', 'c1', { sectors: ['water-and-wastewater'] }), sub('cleared', 'c2')],
        },
        { agency: green, subscriptions: [sub('green-only', 'g1')] },
        { agency: elsewhere, subscriptions: [sub('elsewhere', 'e1')] },
        {
          agency: engaged,
          subscriptions: [
            sub('engaged', 'n1', { minNcissLevel: 5 }),
            sub('engaged', 'n2', { rsitClasses: ['fraud'] }),
          ],
        },
        { agency: agency({ id: 'quiet', engagedIncidentIds: ['inc-1'] }), subscriptions: [] },
      ],
      facts({ tlp: 'AMBER', engagedAgencyIds: ['engaged', 'quiet'] }),
    );
    expect(decisions).toEqual([
      { agencyId: 'cleared', deliver: false, reason: 'not-named', bySubscription: [] },
      { agencyId: 'green-only', deliver: false, reason: 'above-clearance', bySubscription: [] },
      { agencyId: 'elsewhere', deliver: false, reason: 'not-named', bySubscription: [] },
      {
        agencyId: 'engaged',
        deliver: false,
        reason: 'filter-nciss-level',
        bySubscription: [
          { subscriptionId: 'n1', reason: 'filter-nciss-level' },
          { subscriptionId: 'n2', reason: 'filter-rsit-class' },
        ],
      },
      { agencyId: 'quiet', deliver: false, reason: 'no-subscription', bySubscription: [] },
    ]);
  });

  it('delivers once to an agency that several subscriptions match', () => {
    expect(
      recipients(
        [
          {
            agency: engaged,
            subscriptions: [sub('engaged', 'a'), sub('engaged', 'b', { incidentIds: ['inc-1'] })],
          },
        ],
        facts({ tlp: 'RED', engagedAgencyIds: ['engaged'] }),
      ),
    ).toEqual([{ agencyId: 'engaged', deliver: true, grant: 'named', subscriptionIds: ['a', 'b'] }]);
  });
});

describe('matching properties', () => {
  const JURISDICTIONS = j('DE', 'DE-BY', 'DE-BE', 'DK', 'FR', 'FR-75');
  const SECTORS: Sector[] = ['energy', 'water-and-wastewater', 'communications'];
  const CLASSES: RsitClass[] = ['availability', 'intrusions', 'fraud'];
  const TYPES = ['incident.opened', 'incident.resolved', 'impact.assessed'];
  const INCIDENTS = ['inc-1', 'inc-2', 'inc-3'];
  const level = fc.constantFrom<NcissLevel>(0, 1, 2, 3, 4, 5);
  const tlp = fc.constantFrom(...TLP_LEVELS);
  const optionalList = <T>(values: readonly T[]) => fc.option(fc.subarray([...values]), { nil: undefined });

  const agencyArb = fc
    .record({
      clearance: tlp,
      jurisdictions: fc.subarray(JURISDICTIONS),
      sectors: fc.subarray(SECTORS),
      engagedIncidentIds: fc.subarray(INCIDENTS),
    })
    .map((a) => agency(a));

  const subscriptionArb = fc
    .record(
      {
        eventTypes: optionalList([...TYPES, 'incident.*', 'impact.*']),
        rsitClasses: optionalList(CLASSES),
        sectors: optionalList(SECTORS),
        jurisdictions: optionalList(JURISDICTIONS),
        minNcissLevel: fc.option(level, { nil: undefined }),
        incidentIds: optionalList(INCIDENTS),
        reach: fc.constantFrom('named' as const, 'named-and-reached' as const),
      },
      { requiredKeys: [] },
    )
    .map((filters): Subscription => ({ ...everything, ...filters }));

  const factsArb = fc
    .record({
      type: fc.constantFrom(...TYPES),
      tlp,
      incidentId: fc.constantFrom(...INCIDENTS),
      rsitClass: fc.option(fc.constantFrom(...CLASSES), { nil: undefined }),
      sectors: fc.subarray(SECTORS),
      jurisdictions: fc.subarray(JURISDICTIONS),
      placesReached: fc.array(
        fc.record({ sector: fc.constantFrom(...SECTORS), jurisdiction: fc.constantFrom(...JURISDICTIONS) }),
        {
          maxLength: 3,
        },
      ),
      ncissLevel: fc.option(level, { nil: undefined }),
    })
    .map((f) => facts(f));

  it('never delivers above clearance, nor AMBER, AMBER+STRICT or RED to an agency not engaged', () => {
    fc.assert(
      fc.property(agencyArb, subscriptionArb, factsArb, (a, s, anyFacts) => {
        const f = named(a, anyFacts);
        const decision = matches(a, s, f);
        if (!decision.deliver) return;
        const engaged = a.engagedIncidentIds.includes(f.incidentId);
        expect(compareTlp(f.tlp, a.clearance)).toBeLessThanOrEqual(0);
        if (f.tlp === 'RED' || f.tlp === 'AMBER+STRICT') expect(engaged).toBe(true);
        if (f.tlp === 'AMBER') expect(engaged).toBe(true);
      }),
      // Most random cases are denied; this many runs leave hundreds that deliver.
      { numRuns: 1000 },
    );
  });

  it('never lets a filter widen what the label allows: no filters means exactly the label decision', () => {
    fc.assert(
      fc.property(agencyArb, subscriptionArb, factsArb, (a, s, anyFacts) => {
        const f = named(a, anyFacts);
        const label = tlpDecision(a, f);
        const decision = matches(a, s, f);
        if (!label.deliver) expect(decision).toEqual(label);
        expect(matches(a, everything, f)).toEqual(label);
      }),
    );
  });

  it('is monotone: removing filters never removes a match', () => {
    const keys = [
      'eventTypes',
      'rsitClasses',
      'sectors',
      'jurisdictions',
      'minNcissLevel',
      'incidentIds',
    ] as const;
    fc.assert(
      fc.property(
        agencyArb,
        subscriptionArb,
        factsArb,
        fc.subarray([...keys], { minLength: 1 }),
        (a, s, anyFacts, removed) => {
          const f = named(a, anyFacts);
          const wider: Subscription = { ...s, ...Object.fromEntries(removed.map((k) => [k, undefined])) };
          if (matches(a, s, f).deliver) expect(matches(a, wider, f).deliver).toBe(true);
        },
      ),
      // Most random cases are denied; this many runs leave hundreds that deliver.
      { numRuns: 1000 },
    );
  });

  it('is monotone in filter values: adding a value to a list filter never removes a match', () => {
    fc.assert(
      fc.property(
        agencyArb,
        subscriptionArb,
        factsArb,
        fc.constantFrom(...SECTORS),
        fc.constantFrom(...JURISDICTIONS),
        (a, s, anyFacts, sector, jurisdiction) => {
          const f = named(a, anyFacts);
          const wider: Subscription = {
            ...s,
            sectors: s.sectors?.length ? [...s.sectors, sector] : s.sectors,
            jurisdictions: s.jurisdictions?.length ? [...s.jurisdictions, jurisdiction] : s.jurisdictions,
            minNcissLevel:
              s.minNcissLevel === undefined ? undefined : (Math.max(0, s.minNcissLevel - 1) as NcissLevel),
          };
          if (matches(a, s, f).deliver) expect(matches(a, wider, f).deliver).toBe(true);
        },
      ),
      // Most random cases are denied; this many runs leave hundreds that deliver.
      { numRuns: 1000 },
    );
  });

  it('names a filter the subscription sets when it denies on a filter', () => {
    const field = {
      'filter-event-type': 'eventTypes',
      'filter-rsit-class': 'rsitClasses',
      'filter-sector': 'sectors',
      'filter-jurisdiction': 'jurisdictions',
      'filter-nciss-level': 'minNcissLevel',
      'filter-incident': 'incidentIds',
    } as const;
    fc.assert(
      fc.property(subscriptionArb, factsArb, (s, f) => {
        const reason = filterDenial(s, f);
        if (reason === undefined) return;
        const value: unknown = s[field[reason]];
        expect(Array.isArray(value) ? value.length > 0 : typeof value === 'number' && value > 0).toBe(true);
      }),
    );
  });

  it('delivers to an agency exactly when the label allows and one of its subscriptions matches', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(agencyArb, fc.array(subscriptionArb, { maxLength: 3 })), { maxLength: 5 }),
        factsArb,
        (pairs, anyFacts) => {
          const candidates = pairs.map(([a, subs], i) => {
            const id = `agency-${i}`;
            return {
              agency: { ...a, id },
              subscriptions: subs.map((s, k) => ({ ...s, id: `s${k}`, agencyId: id })),
            };
          });
          const f: EventFacts = {
            ...anyFacts,
            engagedAgencyIds: candidates
              .filter((c) => c.agency.engagedIncidentIds.includes(anyFacts.incidentId))
              .map((c) => c.agency.id),
          };
          const decisions = recipients(candidates, f);
          expect(decisions.map((d) => d.agencyId)).toEqual(candidates.map((c) => c.agency.id));
          decisions.forEach((decision, i) => {
            const { agency: a, subscriptions } = candidates[i]!;
            const any = subscriptions.some((s) => matches(a, s, f).deliver);
            expect(decision.deliver).toBe(any);
            if (decision.deliver) expect(compareTlp(f.tlp, a.clearance)).toBeLessThanOrEqual(0);
          });
        },
      ),
    );
  });
});
