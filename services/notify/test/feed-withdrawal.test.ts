import { expect } from 'vitest';
import { JetStreamPublisher } from '@beacon/platform';
import { test, waitFor } from '@beacon/testkit';
import { AccessWithdrawals } from '../src/app/access-withdrawals.js';
import { JetStreamAccessWithdrawalFeed, JetStreamFeedPurger } from '../src/adapters/nats/feed-withdrawal.js';
import { feedSubject } from '../src/adapters/nats/feeds.js';

test('a withdrawal purges one agency’s copies of one incident above GREEN, tells it once, and purges again what arrives late', async ({
  nats,
  jsm,
  names,
}) => {
  const stream = names.stream('FEEDS');
  const root = names.subject('beacon.feed');
  await jsm.streams.add({ name: stream, subjects: [`${root}.>`], duplicate_window: 60 * 1e9 });
  const publisher = new JetStreamPublisher(nats);
  const copy = (agencyId: string, incidentId: string, tlp: 'GREEN' | 'AMBER' | 'RED') =>
    publisher.publish(
      feedSubject(root, { agencyId, incidentId, tlp, type: 'incident.opened' }),
      new Uint8Array(),
    );
  for (const tlp of ['GREEN', 'AMBER', 'RED'] as const) {
    await copy('cert-a', 'inc_1', tlp);
    await copy('cert-a', 'inc_2', tlp);
    await copy('cert-b', 'inc_1', tlp);
  }
  const withdrawals = new AccessWithdrawals({
    feeds: new JetStreamFeedPurger(async () => jsm, stream, root),
    notices: new JetStreamAccessWithdrawalFeed(publisher, root),
    clock: { now: () => new Date() },
    repurgeAfterMs: 1_500,
  });
  const held = async () => {
    const info = await jsm.streams.info(stream, { subjects_filter: `${root}.>` });
    return Object.keys(info.state.subjects ?? {})
      .map((s) => s.slice(root.length + 1))
      .sort();
  };
  try {
    const removed = { tlp: 'AMBER' as const, engagedAgencyIds: ['cert-b'] };
    expect(
      await withdrawals.incidentChanged(
        { id: 'cert-a', clearance: 'RED' },
        'inc_1',
        removed,
        'unassigned',
        'e1',
      ),
    ).toBe(true);
    // Redelivered: nothing left to purge, and the notice is not repeated.
    await withdrawals.incidentChanged(
      { id: 'cert-a', clearance: 'RED' },
      'inc_1',
      removed,
      'unassigned',
      'e1',
    );
    expect(await held()).toEqual([
      'cert-a.inc_1.green.incident.opened',
      'cert-a.inc_1.green.notify.access-withdrawn',
      'cert-a.inc_2.amber.incident.opened',
      'cert-a.inc_2.green.incident.opened',
      'cert-a.inc_2.red.incident.opened',
      'cert-b.inc_1.amber.incident.opened',
      'cert-b.inc_1.green.incident.opened',
      'cert-b.inc_1.red.incident.opened',
    ]);
    const notices = await jsm.streams.info(stream, {
      subjects_filter: `${root}.cert-a.inc_1.green.notify.>`,
    });
    expect(Object.values(notices.state.subjects ?? {})).toEqual([1]);

    // A copy a stale replica publishes after the purge is gone shortly after.
    await copy('cert-a', 'inc_1', 'RED');
    await waitFor(
      async () => expect((await held()).filter((s) => s.startsWith('cert-a.inc_1.red'))).toEqual([]),
      {
        what: 'the repeated purge',
        timeoutMs: 10_000,
      },
    );
  } finally {
    withdrawals.stop();
  }
});
