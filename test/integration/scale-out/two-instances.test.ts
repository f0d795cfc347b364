import { jetstream, jetstreamManager, type JetStreamClient } from '@nats-io/jetstream';
import { describe, expect } from 'vitest';
import { eventsV1, type impactV1, type intakeV1 } from '@beacon/proto';
import { recordingLogger, test, waitFor } from '@beacon/testkit';
import { call, registerWatcher, report, startScaleOutStack } from './support/stack.js';

async function readAll<T>(
  js: JetStreamClient,
  stream: string,
  map: (data: Uint8Array, eventId?: string) => T,
) {
  const count = (await (await js.jetstreamManager()).streams.info(stream)).state.messages;
  const out: T[] = [];
  if (count === 0) return out;
  for await (const m of await (
    await js.consumers.get(stream)
  ).fetch({ max_messages: count, expires: 10_000 })) {
    out.push(map(m.data, m.headers?.get('Beacon-Event-Id')));
    if (out.length === count) break;
  }
  return out;
}

describe('two instances of each service against the same servers', () => {
  test(
    'two intakes, impacts and notifies share the work: every event stored, assessed and fanned out once',
    { timeout: 90_000 },
    async ({ infra, names, nats, mongoClient }) => {
      const stack = await startScaleOutStack({
        mongoUrl: infra.mongoUrl,
        natsServers: [infra.natsUrl],
        replicas: 1,
        names,
      });
      const impactLogs = [recordingLogger('impact-a'), recordingLogger('impact-b')];
      const notifyLogs = [recordingLogger('notify-a'), recordingLogger('notify-b')];
      try {
        const cc = await stack.token(['coordinator']);
        await stack.addIntake();
        await stack.addIntake();
        // Both impacts run before the assets are put through the first: the second learns of
        // them from the registry's revision, and assesses with them.
        await stack.addImpact(impactLogs[0]!.logger);
        await stack.addImpact(impactLogs[1]!.logger);
        for (const id of ['substation-1', 'substation-2']) {
          await call<impactV1.PutAssetResponse>(
            stack.impacts[0]!.client,
            'putAsset',
            {
              asset: {
                id,
                name: `Substation ${id}`,
                operatorId: 'op-grid',
                sector: 'energy',
                jurisdiction: 'DE-BY',
                location: { lat: 48.14, lon: 11.58 },
                populationServed: 50_000,
                criticality: 4,
                services: [],
                tlp: 2,
                version: 0,
              },
              expectedVersion: 0,
            },
            cc,
          );
        }
        await stack.addNotify(notifyLogs[0]!.logger);
        await registerWatcher(stack.notifies[0]!.client, cc, 'cert-de');
        await stack.addNotify(notifyLogs[1]!.logger);

        // A burst spread over both intakes; every third report names an affected asset.
        const analyst = await stack.token(['agency_analyst'], 'cert-de');
        const total = 60;
        const withAssets = new Set<string>();
        const acknowledged: { reportId: string; incidentId: string }[] = [];
        let next = 0;
        await Promise.all(
          Array.from({ length: 8 }, async () => {
            for (let i = next++; i < total; i = next++) {
              const affectedAssets = i % 3 === 0 ? [{ assetId: `substation-${(i % 2) + 1}`, loss: 1 }] : [];
              const res = await call<intakeV1.SubmitReportResponse>(
                stack.intakes[i % 2]!.client,
                'submitReport',
                report(i, names.id, { affectedAssets }),
                analyst,
              );
              acknowledged.push({ reportId: res.report!.id, incidentId: res.incident!.id });
              if (affectedAssets.length > 0) withAssets.add(res.incident!.id);
            }
          }),
        );
        expect(acknowledged).toHaveLength(total);

        // Reported + opened per report, plus one assessment per incident with an asset.
        const expected = 2 * total + withAssets.size;
        const jsm = await jetstreamManager(nats);
        const js = jetstream(nats);
        await waitFor(
          async () => {
            const events = (await jsm.streams.info(stack.events.stream)).state.messages;
            const feed = (await jsm.streams.info(stack.feeds.stream)).state.messages;
            if (events < expected || feed < expected)
              throw new Error(`${events} events, ${feed} feed copies of ${expected}`);
            const acked = (await jsm.consumers.info(stack.events.stream, stack.durables.fanOut))
              .num_ack_pending;
            const pending = (await jsm.consumers.info(stack.events.stream, stack.durables.impact))
              .num_ack_pending;
            if (acked + pending > 0)
              throw new Error(`${acked} fan-out and ${pending} impact events unacknowledged`);
          },
          { what: 'every event published, assessed and fanned out', timeoutMs: 45_000, intervalMs: 200 },
        );

        const envelopes = await readAll(js, stack.events.stream, (data) => eventsV1.Envelope.decode(data));
        expect(envelopes).toHaveLength(expected);
        expect(new Set(envelopes.map((e) => e.id)).size).toBe(expected);
        const ofType = (type: string) =>
          envelopes
            .filter((e) => e.type === type)
            .map((e) => e.subject)
            .sort();
        expect(ofType('beacon.incident.reported.v1')).toEqual(acknowledged.map((a) => a.reportId).sort());
        expect(ofType('beacon.incident.opened.v1')).toEqual(acknowledged.map((a) => a.incidentId).sort());
        expect(
          envelopes
            .filter((e) => e.type === 'beacon.impact.assessed.v1')
            .map((e) => e.incidentId)
            .sort(),
        ).toEqual([...withAssets].sort());

        // The feed holds each event once.
        const feed = await readAll(js, stack.feeds.stream, (_data, eventId) => eventId ?? '(none)');
        expect(feed.sort()).toEqual(envelopes.map((e) => e.id).sort());

        // One assessment per incident with an asset, computed once (its first revision).
        const assessments = await mongoClient
          .db(stack.databases.impact)
          .collection<{ incidentId: string; revision: number; unknownAssetIds: string[] }>('assessments')
          .find({})
          .toArray();
        expect(assessments.map((a) => a.incidentId).sort()).toEqual([...withAssets].sort());
        expect(assessments.every((a) => a.revision === 1)).toBe(true);
        // Whichever instance assessed, it knew the assets.
        expect(assessments.flatMap((a) => a.unknownAssetIds)).toEqual([]);

        // Both instances of each consumer did part of the work, and no event was handled twice.
        const handled = (logs: typeof notifyLogs, msg: string) =>
          logs.map((l) => l.lines.filter((line) => line.msg === msg).map((line) => line.eventId!));
        const fannedOut = handled(notifyLogs, 'event fanned out');
        const assessed = handled(impactLogs, 'incident event handled');
        for (const perInstance of [fannedOut, assessed]) {
          expect(perInstance.every((ids) => ids.length > 0)).toBe(true);
          const all = perInstance.flat();
          expect(new Set(all).size).toBe(all.length);
        }
        expect(fannedOut.flat().sort()).toEqual(envelopes.map((e) => e.id).sort());
      } finally {
        await stack.stop();
        for (const db of Object.values(stack.databases)) await mongoClient.db(db).dropDatabase();
        const jsm = await jetstreamManager(nats);
        for (const stream of [stack.events.stream, stack.feeds.stream])
          await jsm.streams.delete(stream).catch(() => false);
      }
    },
  );
});
