/**
 * The chaos test: the local stack as `make up` runs it (every server and service under the
 * supervisor, on free ports), reports coming in through the gateway from clients that retry
 * with the same idempotency key, and each component killed with SIGKILL in turn. The supervisor
 * must bring each back within its target without restarting anything else, and Beacon must
 * lose nothing: every acknowledged report in its incident, one incident per indicator, stable
 * idempotency keys, one copy of each event in the feed, one response per incident, an intact
 * audit chain.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { jetstream } from '@nats-io/jetstream';
import { credsAuthenticator } from '@nats-io/nats-core';
import { connect } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  allServing,
  devIssuer,
  ensureSupervisedStack,
  infraDir,
  localNatsAdminCreds,
  runningSupervisor,
  stopSupervisedStack,
  waitFor,
  type SupervisedStack,
  type UnitStatus,
} from '@beacon/testkit/infra';

/** Milliseconds from SIGKILL until the supervisor reports the process serving again, at most. */
const TARGET_MS = { service: 5_000, server: 15_000 };
const KILLED = [
  ['intake', 'service'],
  ['nats', 'server'],
  ['mongo', 'server'],
  ['notify', 'service'],
  ['workflows', 'service'],
  ['temporal', 'server'],
  ['gateway', 'service'],
] as const;
const INDICATORS = 40;
const MIN_REPORTS = 160;
const AGENCY = 'cert-chaos';
/** Fixed, so a retry sends the very bytes the idempotency key guards. */
const AWARE_AT = new Date(Date.now() - 3_600_000).toISOString();

const dir = join(infraDir, 'test', `chaos-${randomBytes(4).toString('hex')}`);
let stack: SupervisedStack;
let base: string;
let coordinator: string;
let analyst: string;
let passed = false;

interface Ack {
  readonly key: string;
  readonly indicator: number;
  readonly reportId: string;
  readonly incidentId: string;
}

/** POSTs until answered with a success; only an outage (no answer, 502-504, 429) is retried. */
async function postUntilServed(path: string, token: string, body: unknown, key: string, seen: number[]) {
  for (;;) {
    let response: Response;
    try {
      response = await fetch(`${base}${path}`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${token}`,
          'content-type': 'application/json',
          'idempotency-key': key,
        },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(15_000),
      });
    } catch {
      seen.push(0); // refused or reset: the gateway is down or restarting
      await delay(100);
      continue;
    }
    seen.push(response.status);
    if (response.ok) return (await response.json()) as Record<string, unknown>;
    if (![429, 502, 503, 504].includes(response.status)) {
      throw new Error(`${path} answered ${response.status}: ${await response.text()}`);
    }
    const retryAfter = Number(response.headers.get('retry-after') ?? '0');
    await delay(Math.min(Math.max(retryAfter * 1000, 100), 2_000));
  }
}

const report = (indicator: number, n: number) => ({
  title: `Chaos wave report ${n}`,
  description: 'Submitted while the stack is broken on purpose.',
  tlp: 'TLP_GREEN',
  classification: { rsitClass: 'fraud', rsitType: 'phishing' },
  sectors: ['energy'],
  jurisdictions: ['DE-BY'],
  observables: [{ type: 'domain', value: `login-${indicator}.chaos-wave.example` }],
  awareAt: AWARE_AT,
});

async function getJson(path: string): Promise<Record<string, unknown>> {
  const response = await fetch(`${base}${path}`, { headers: { authorization: `Bearer ${coordinator}` } });
  if (!response.ok) throw new Error(`${path} answered ${response.status}: ${await response.text()}`);
  return (await response.json()) as Record<string, unknown>;
}

const unit = (name: string): UnitStatus => {
  const found = stack.state().units.find((u) => u.name === name);
  if (!found) throw new Error(`no process ${name} in the supervisor's state`);
  return found;
};

beforeAll(async () => {
  // Servers of its own, to kill: not the suite's shared ones.
  const env = { ...process.env };
  for (const name of ['MONGO_URL', 'NATS_URL', 'TEMPORAL_ADDRESS', 'TEMPORAL_NAMESPACE']) delete env[name];
  stack = await ensureSupervisedStack({ dir, ports: 'free', ui: false, env });
  base = `http://127.0.0.1:${stack.apps.gatewayHttp}`;
  const { issuer } = await devIssuer(dir);
  coordinator = await issuer.mint({ subject: 'chaos-coordinator', roles: ['coordinator'], clearance: 'RED' });
  analyst = await issuer.mint({
    subject: 'chaos-analyst',
    roles: ['agency_analyst'],
    agencyId: AGENCY,
    clearance: 'AMBER',
  });
  const seen: number[] = [];
  await postUntilServed(
    '/v1/agencies',
    coordinator,
    {
      agency: {
        id: AGENCY,
        name: 'Chaos CERT',
        kind: 'AGENCY_KIND_CSIRT',
        jurisdictions: ['DE-BY'],
        sectors: ['energy'],
        clearance: 'TLP_AMBER',
        contacts: [{ role: 'duty-officer', name: 'Duty officer', email: 'duty@cert-chaos.example' }],
      },
    },
    'chaos-agency-1',
    seen,
  );
  await postUntilServed(
    '/v1/subscriptions',
    coordinator,
    { subscription: { id: 'default', agencyId: AGENCY } },
    'chaos-subscription-1',
    seen,
  );
}, 240_000);

afterAll(async () => {
  await stopSupervisedStack(dir);
  // The logs of a failed run are kept for the reader of the failure.
  if (passed) rmSync(dir, { recursive: true, force: true });
  else console.log(`chaos: logs kept in ${dir}`);
}, 120_000);

describe('the supervised local stack under SIGKILL', () => {
  it('heals every process within its target and loses nothing', { timeout: 300_000 }, async () => {
    const acks: Ack[] = [];
    const statuses: number[] = [];
    let killsDone = false;
    let next = 0;
    const client = async () => {
      while (!killsDone || next < MIN_REPORTS) {
        const n = next++;
        const indicator = n % INDICATORS;
        const key = `chaos-report-${n}`;
        const body = await postUntilServed('/v1/reports', analyst, report(indicator, n), key, statuses);
        const ids = body as { report?: { id?: string }; incident?: { id?: string } };
        acks.push({ key, indicator, reportId: ids.report?.id ?? '', incidentId: ids.incident?.id ?? '' });
        await delay(50); // a steady trickle, not a flood: the kills are what is tested here
      }
    };
    // A client that meets anything but an outage ends the test at its next wait.
    const failures: Error[] = [];
    const clients = Array.from({ length: 5 }, () =>
      client().catch((error: unknown) => {
        failures.push(error as Error);
      }),
    );
    const failed = () => failures[0]?.message;

    const recoveries: Record<string, number> = {};
    for (const [name, kind] of KILLED) {
      // Let some reports through between kills, so each outage falls on live traffic.
      const before = acks.length;
      await waitFor(
        async () => {
          if (acks.length < before + 10)
            throw new Error(`${acks.length - before} reports since the last kill`);
        },
        { what: `reports flowing before killing ${name}`, timeoutMs: 60_000, abortIf: failed },
      );
      const victim = unit(name);
      const othersBefore = stack
        .state()
        .units.filter((u) => u.name !== name)
        .map((u) => [u.name, u.pid]);
      const killedAt = Date.now();
      process.kill(victim.pid!, 'SIGKILL');
      await waitFor(
        async () => {
          const now = unit(name);
          if (now.pid === victim.pid || now.state !== 'running' || !now.healthy)
            throw new Error(`${name} is ${now.state}`);
        },
        { what: `${name} serving again`, timeoutMs: 60_000, intervalMs: 50 },
      );
      recoveries[name] = Date.now() - killedAt;
      expect(recoveries[name], `${name} serving again after its SIGKILL (ms)`).toBeLessThan(TARGET_MS[kind]);
      expect(unit(name).restarts).toBe(victim.restarts + 1);
      const othersAfter = stack
        .state()
        .units.filter((u) => u.name !== name)
        .map((u) => [u.name, u.pid]);
      expect(othersAfter, `nothing but ${name} restarted`).toEqual(othersBefore);
    }
    // The supervisor itself: its keeper starts it again, and it adopts every process as it runs.
    const supervisor = stack.state();
    process.kill(supervisor.pid, 'SIGKILL');
    await waitFor(
      async () => {
        const now = runningSupervisor(dir);
        if (!now || now.pid === supervisor.pid || !allServing(now))
          throw new Error('no new supervisor serving yet');
      },
      { what: 'a new supervisor', timeoutMs: 30_000, intervalMs: 100, abortIf: failed },
    );
    expect(stack.state().units.map((u) => [u.name, u.pid])).toEqual(
      supervisor.units.map((u) => [u.name, u.pid]),
    );
    // ...and goes on healing: a process killed now comes back too.
    const intake = unit('intake');
    process.kill(intake.pid!, 'SIGKILL');
    await waitFor(
      async () => {
        const now = unit('intake');
        if (now.pid === intake.pid || now.state !== 'running' || !now.healthy) throw new Error(now.state);
      },
      { what: 'intake restarted by the new supervisor', timeoutMs: 15_000, intervalMs: 50 },
    );
    killsDone = true;
    await Promise.all(clients);
    expect(failures.map(String)).toEqual([]);
    console.log(
      `chaos: recovery ms ${JSON.stringify(recoveries)}; ${acks.length} reports; statuses ${JSON.stringify(count(statuses))}`,
    );

    // Only outages were seen: no 500, no refusal of a valid report.
    expect(statuses.filter((s) => ![0, 200, 201, 429, 502, 503, 504].includes(s))).toEqual([]);
    // One incident per indicator, and every acknowledgement names it.
    const byIndicator = new Map<number, Set<string>>();
    for (const ack of acks)
      byIndicator.set(ack.indicator, (byIndicator.get(ack.indicator) ?? new Set()).add(ack.incidentId));
    const split = [...byIndicator].filter(([, ids]) => ids.size !== 1 || ids.has(''));
    expect(split.map(([indicator, ids]) => `${indicator}: ${[...ids].join(', ')}`)).toEqual([]);
    const incidents = new Set(acks.map((a) => a.incidentId));
    expect(incidents.size).toBe(INDICATORS);

    // Idempotency keys are stable: a retry now gets the same report and incident.
    for (const ack of acks.filter((_, i) => i % 8 === 0)) {
      const again = (await postUntilServed(
        '/v1/reports',
        analyst,
        report(ack.indicator, Number(ack.key.split('-').at(-1))),
        ack.key,
        [],
      )) as {
        report?: { id?: string };
        incident?: { id?: string };
      };
      expect([again.report?.id, again.incident?.id]).toEqual([ack.reportId, ack.incidentId]);
    }
    // Every acknowledged report is stored in its incident; each incident has its response.
    for (const incidentId of incidents) {
      const { incident } = (await getJson(`/v1/incidents/${incidentId}`)) as {
        incident: { reportIds: string[] };
      };
      const expected = acks.filter((a) => a.incidentId === incidentId).map((a) => a.reportId);
      expect(incident.reportIds).toEqual(expect.arrayContaining(expected));
      await waitFor(() => getJson(`/v1/responses/${incidentId}`), {
        what: `the response of ${incidentId}`,
        timeoutMs: 60_000,
      });
    }
    // The audit chain is whole.
    const verified = (await postUntilServed('/v1/audit:verify', coordinator, {}, 'chaos-verify-1', [])) as {
      ok?: boolean;
      records?: number;
    };
    expect(verified.ok).toBe(true);
    expect(verified.records).toBeGreaterThanOrEqual(acks.length);

    // The agency's feed: exactly one copy of each event, one `incident.opened` per incident.
    const nc = await connect({
      servers: stack.endpoints.natsUrl,
      authenticator: credsAuthenticator(() => readFileSync(localNatsAdminCreds(dir)!)),
    });
    try {
      const js = jetstream(nc);
      const feed = await waitFor(
        async () => {
          const copies = await readFeed(js, `beacon.feed.${AGENCY}.>`);
          const opened = new Set(
            copies.filter((c) => c.subject.endsWith('.incident.opened')).map((c) => c.subject.split('.')[3]),
          );
          if (opened.size < incidents.size)
            throw new Error(`${opened.size} of ${incidents.size} incidents opened in the feed`);
          return copies;
        },
        { what: 'every incident in the feed', timeoutMs: 60_000, intervalMs: 500 },
      );
      const ids = feed.map((c) => c.eventId);
      expect(
        ids.filter((id, i) => ids.indexOf(id) !== i),
        'copies the feed holds twice',
      ).toEqual([]);
      const opened = feed
        .filter((c) => c.subject.endsWith('.incident.opened'))
        .map((c) => c.subject.split('.')[3]);
      expect(opened.length).toBe(incidents.size);
      expect(new Set(opened)).toEqual(incidents);
    } finally {
      await nc.close();
    }
    passed = true;
  });
});

async function readFeed(js: ReturnType<typeof jetstream>, filter: string) {
  const jsm = await js.jetstreamManager();
  const name = await jsm.streams.find(filter);
  const consumer = await js.consumers.get(name, { filter_subjects: [filter] });
  const copies: { subject: string; eventId: string }[] = [];
  const pending = (await consumer.info()).num_pending;
  if (pending === 0) return copies;
  for await (const m of await consumer.fetch({ max_messages: pending, expires: 5_000 })) {
    copies.push({ subject: m.subject, eventId: m.headers?.get('Beacon-Event-Id') ?? '' });
    if (copies.length === pending) break;
  }
  return copies;
}

function count(values: readonly number[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const v of values) counts[v] = (counts[v] ?? 0) + 1;
  return counts;
}
