import { jetstream } from '@nats-io/jetstream';
import { describe, expect } from 'vitest';
import { NCISS_BASELINE } from '@beacon/domain';
import { encodeEnvelope } from '@beacon/platform';
import { impactV1, notifyV1 } from '@beacon/proto';
import { test as base, waitFor } from '@beacon/testkit';
import { agency, call, openIncident, startStack, subscription, type Stack } from './harness.js';

const test = base.extend('stack', async ({ infra, names }, { onCleanup }): Promise<Stack> => {
  const stack = await startStack(infra, names);
  onCleanup(() => stack.stop());
  return stack;
});

/** Each agency's feed as event types, in order. */
async function feedsOf(t: Stack, nats: Parameters<typeof jetstream>[0], agencies: string[]) {
  const consumer = await jetstream(nats).consumers.get(t.feeds.stream);
  const pending = (await consumer.info()).num_pending;
  const byAgency: Record<string, string[]> = Object.fromEntries(agencies.map((a) => [a, []]));
  if (pending === 0) return byAgency;
  let seen = 0;
  for await (const m of await consumer.fetch({ max_messages: pending, expires: 5_000 })) {
    const agencyId = m.subject.slice(t.feeds.root.length + 1).split('.')[0]!;
    byAgency[agencyId]?.push(String(m.headers?.get('Beacon-Event-Type')));
    if (++seen === pending) break;
  }
  return byAgency;
}

describe('subscriptions and the places a cascade reaches', () => {
  test('an agency subscribed to energy in DE hears of an incident whose cascade took out energy in DE, and of its later events', async ({
    stack: t,
    nats,
  }) => {
    const cc = await t.token(['coordinator']);
    const operator = notifyV1.AgencyKind.AGENCY_KIND_OPERATOR;
    for (const a of [
      agency('de-energy', 'GREEN', { kind: operator }),
      agency('de-energy-named', 'GREEN', { kind: operator }),
      agency('ua-energy', 'GREEN', { kind: operator, jurisdictions: ['UA'] }),
      agency('de-telecom', 'GREEN', { kind: operator, sectors: ['communications'] }),
    ]) {
      await call(t.notifyClient, 'putAgency', { agency: a, expectedVersion: 0 }, cc);
    }
    const energyDe = { sectors: ['energy'], jurisdictions: ['DE'] };
    for (const s of [
      subscription('de-energy', 'energy-de', energyDe),
      subscription('de-energy-named', 'energy-de', {
        ...energyDe,
        reach: notifyV1.SubscriptionReach.SUBSCRIPTION_REACH_NAMED,
      }),
      subscription('ua-energy', 'energy-ua', { sectors: ['energy'], jurisdictions: ['UA'] }),
      subscription('de-telecom', 'telecom-de', { sectors: ['communications'], jurisdictions: ['DE'] }),
    ]) {
      await call(t.notifyClient, 'putSubscription', { subscription: s }, cc);
    }

    // A wiper on a satellite network, reported in UA and DE for communications.
    const incident = await openIncident(t, cc, 'GREEN', {
      title: 'Wiper on a satellite network',
      sectors: ['communications'],
      jurisdictions: ['UA', 'DE'],
    });
    // Impact's assessment: the cascade reaches energy in Lower Saxony, and nothing in UA but
    // the network itself.
    const assessed = encodeEnvelope({
      id: `assessed-${incident.id}`,
      time: new Date(),
      source: 'impact',
      domain: 'impact',
      event: 'assessed',
      subject: `incident-${incident.id}`,
      tlp: 'GREEN',
      incidentId: incident.id,
      schema: 'beacon.impact.v1.ImpactAssessed',
      data: impactV1.ImpactAssessed.encode({
        assessment: impactV1.Assessment.fromPartial({
          id: `incident-${incident.id}`,
          incidentId: incident.id,
          revision: 1,
          bySector: [
            { key: 'communications', assets: 1, population: '10000' },
            { key: 'energy', assets: 2, population: '45000' },
          ],
          byPlace: [
            { sector: 'communications', jurisdiction: 'UA', assets: 1, population: '10000' },
            { sector: 'energy', jurisdiction: 'DE-NI', assets: 2, population: '45000' },
          ],
        }),
      }).finish(),
    });
    await jetstream(nats).publish(`${t.events.root}.impact.assessed`, assessed.data, { msgID: assessed.id });
    // A later event of the incident reaches the agency the cascade concerns, too.
    await call(
      t.intakeClient,
      'updateSeverity',
      {
        incidentId: incident.id,
        severityInputs: { ...NCISS_BASELINE, crossSectorDependency: 'low', potentialImpact: 'high' },
        expectedVersion: 0,
      },
      cc,
    );

    const expected = {
      'de-energy': ['impact.assessed', 'incident.severity-changed'],
      // Named places only: energy is named nowhere.
      'de-energy-named': [],
      // Energy in UA is neither named nor reached: a place, not sectors times jurisdictions.
      'ua-energy': [],
      // Communications named in DE: every event of it.
      'de-telecom': ['incident.opened', 'impact.assessed', 'incident.severity-changed'],
    };
    let last: unknown;
    await waitFor(
      async () => expect((last = await feedsOf(t, nats, Object.keys(expected)))).toEqual(expected),
      {
        what: 'the feeds',
        timeoutMs: 20_000,
        intervalMs: 200,
      },
    ).catch((error: Error) => {
      throw new Error(`${error.message}: ${JSON.stringify(last)}`);
    });
  });
});
