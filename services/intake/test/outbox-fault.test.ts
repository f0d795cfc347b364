import { Writable } from 'node:stream';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import type { Db } from 'mongodb';
import { describe, expect, vi } from 'vitest';
import { connectNats, type LoggerConfig } from '@beacon/platform';
import type * as Platform from '@beacon/platform';
import { eventsV1 } from '@beacon/proto';
import { startDedicated, test as base, waitFor, type DedicatedServer } from '@beacon/testkit';
import { report, rpc, startTestIntake, type TestIntake } from './harness.js';

/**
 * What intake logs, kept so the test can wait for what it reports (a failed relay pass, a
 * reconnect) instead of guessing how long that takes. The harness builds intake's logger with
 * `createLogger`; here it writes JSON lines into this list instead of nowhere.
 */
const logged = vi.hoisted(() => [] as { level?: string; msg?: string; nats?: { status?: string } }[]);
vi.mock('@beacon/platform', async (importOriginal) => {
  const platform = await importOriginal<typeof Platform>();
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString('utf8').split('\n')) {
        if (line.trim()) logged.push(JSON.parse(line) as (typeof logged)[number]);
      }
      done();
    },
  });
  return {
    ...platform,
    createLogger: (config: LoggerConfig) =>
      platform.createLogger({ ...config, level: 'info', destination: sink }),
  };
});
const relayFailures = () => logged.filter((l) => l.level === 'warn' && /outbox relay/.test(l.msg ?? ''));
const natsStatuses = () => logged.flatMap((l) => (l.nats?.status ? [l.nats.status] : []));

/** Intake publishing to a NATS server of the test's own, which the test may kill. */
const test = base.extend(
  'faulty',
  async (
    { infra, names, mongoClient },
    { onCleanup },
  ): Promise<{ t: TestIntake; server: DedicatedServer }> => {
    const server = await startDedicated('nats');
    const t = await startTestIntake({ ...infra, natsUrl: server.url }, names).catch(
      async (error: unknown) => {
        await server.stop();
        throw error;
      },
    );
    onCleanup(async () => {
      try {
        await t.stop();
        await mongoClient.db(t.dbName).dropDatabase();
      } finally {
        await server.stop();
      }
    });
    return { t, server };
  },
);

/** Documents whose outbox still holds events (a document that never had an outbox has none). */
async function unpublished(db: Db): Promise<string[]> {
  const problems: string[] = [];
  for (const name of ['incidents', 'reports']) {
    const docs = await db
      .collection(name)
      .find({}, { projection: { outbox: 1 } })
      .toArray();
    for (const doc of docs) {
      const entries = Object.keys((doc['outbox'] as object | undefined) ?? {}).length;
      if (entries !== 0) problems.push(`${name}/${String(doc._id)}: ${entries} entries`);
    }
  }
  return problems;
}

describe('outbox relay under a NATS crash', () => {
  test(
    'kill -9 of NATS during a burst: every acknowledged report is published exactly once',
    { timeout: 120_000 },
    async ({ faulty: { t, server }, names, mongoClient }) => {
      const db = mongoClient.db(t.dbName);
      const token = await t.token({ roles: ['agency_analyst'], agencyId: 'cert-de' });
      const total = 60;
      const concurrency = 6;
      const acknowledged: { reportId: string; incidentId: string }[] = [];
      const failed: string[] = [];
      const answered = () => acknowledged.length + failed.length;
      let outage: { from: number; to: number; pending: number } | undefined;
      let fault: Promise<void> | undefined;
      logged.length = 0;

      // NATS dies once 20 reports are acknowledged. Reports keep coming until 35 are; then the
      // burst holds until the relay has failed to publish (its publishes timed out) and NATS is
      // back, and the rest of the burst goes to a restarted server.
      const crashAndRestart = async () => {
        await server.process.kill();
        const from = answered();
        await waitFor(
          async () => {
            if (answered() < 35) throw new Error(`${answered()} answered`);
          },
          { what: 'reports during the outage', timeoutMs: 30_000, intervalMs: 20 },
        );
        await waitFor(
          async () => {
            if (relayFailures().length === 0) throw new Error('the relay has not reported a failure yet');
          },
          { what: 'a failed relay pass while NATS is down', timeoutMs: 30_000, intervalMs: 50 },
        );
        outage = { from, to: answered(), pending: (await unpublished(db)).length };
        await server.restart();
      };

      let next = 0;
      const submitter = async () => {
        for (;;) {
          if (fault && answered() >= 35) await fault;
          const i = next++;
          if (i >= total) return;
          try {
            const res = await rpc(
              t,
              'submitReport',
              report({ observables: [{ type: 'domain', value: `burst-${i}.${names.id}.example` }] }),
              token,
            );
            expect(res.attached).toBe(false);
            acknowledged.push({ reportId: res.report!.id, incidentId: res.incident!.id });
          } catch (error) {
            failed.push(`report ${i}: ${error instanceof Error ? error.message : String(error)}`);
          }
          if (!fault && acknowledged.length >= 20) fault = crashAndRestart();
        }
      };
      await Promise.all(Array.from({ length: concurrency }, submitter));
      await fault;

      // Intake takes reports whether or not the event bus is up: that is what the outbox is for.
      expect(failed).toEqual([]);
      expect(acknowledged).toHaveLength(total);
      // The crash came mid-burst, reports were taken while NATS was down, and more after it was back.
      expect(outage!.from).toBeGreaterThanOrEqual(20);
      expect(outage!.to).toBeGreaterThanOrEqual(35);
      expect(outage!.to).toBeLessThan(total);
      // Events were waiting while NATS was down, so the relay really had to recover.
      expect(outage!.pending).toBeGreaterThan(0);

      await waitFor(
        async () => {
          const problems = await unpublished(db);
          if (problems.length > 0)
            throw new Error(`${problems.length} left, e.g. ${problems.slice(0, 3).join('; ')}`);
        },
        { what: 'outbox relay after the NATS restart', timeoutMs: 45_000, intervalMs: 100 },
      );
      expect(await db.collection('reports').countDocuments()).toBe(total);
      expect(await db.collection('incidents').countDocuments()).toBe(total);

      const nc = await connectNats({ servers: server.url, name: 'outbox-fault-test' });
      try {
        const info = await (await jetstreamManager(nc)).streams.info(t.stream);
        const count = info.state.messages;
        const consumer = await jetstream(nc).consumers.get(t.stream);
        const events: eventsV1.Envelope[] = [];
        if (count > 0) {
          for await (const message of await consumer.fetch({ max_messages: count, expires: 10_000 })) {
            events.push(eventsV1.Envelope.decode(message.data));
            if (events.length === count) break;
          }
        }
        expect(events).toHaveLength(count);
        // No event twice: as many distinct ids as messages.
        expect(new Set(events.map((e) => e.id)).size).toBe(count);

        const subjectsOf = (type: string) =>
          events
            .filter((e) => e.type === type)
            .map((e) => e.subject)
            .sort();
        // Exactly one of each per acknowledged report and incident, nothing missing, nothing else.
        expect(subjectsOf('beacon.incident.reported.v1')).toEqual(acknowledged.map((a) => a.reportId).sort());
        expect(subjectsOf('beacon.incident.opened.v1')).toEqual(acknowledged.map((a) => a.incidentId).sort());
        expect(count).toBe(2 * total);
        const reported = events.filter((e) => e.type === 'beacon.incident.reported.v1');
        const incidentOf = new Map(acknowledged.map((a) => [a.reportId, a.incidentId]));
        expect(reported.every((e) => e.incidentId === incidentOf.get(e.subject))).toBe(true);
        // The client found the restarted server by itself.
        expect(natsStatuses()).toContain('reconnect');
      } finally {
        await nc.close();
      }
    },
  );
});
