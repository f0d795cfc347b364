/**
 * Fault: the Temporal worker is killed with SIGKILL in the middle of a response — right after a
 * coordinator's escalation sent an engagement notice and before Temporal learnt the activity had
 * completed — and started again. The response carries on where it was: the notice activity is
 * retried under the same idempotency key, notify sends nothing twice, and the acknowledgements
 * and resolution that follow reach the response run by the new process.
 */
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { jetstream } from '@nats-io/jetstream';
import { describe, expect } from 'vitest';
import { NCISS_BASELINE } from '@beacon/domain';
import { eventsV1, notifyV1 } from '@beacon/proto';
import { infraDir, ManagedProcess, repoRoot, test, waitFor } from '@beacon/testkit';
import { responseWorkflowId, statusQuery } from '../src/index.js';
import type { incidentResponse } from '../src/workflows/index.js';
import { rest, startResponseStack, type ResponseStack } from './support/stack.js';

async function noticeCount(s: ResponseStack, nats: Parameters<typeof jetstream>[0], agencyId: string) {
  // Feed subjects name the incident and the label between the agency and the event type.
  const subject = `${s.feeds.root}.${agencyId}.*.*.notify.engagement-requested`;
  const info = await (
    await jetstream(nats).jetstreamManager()
  ).streams.info(s.feeds.stream, {
    subjects_filter: subject,
  });
  return Object.values(info.state.subjects ?? {}).reduce((sum, n) => sum + n, 0);
}

describe('the worker killed mid-response', () => {
  test('restarts into the same response and sends no notice twice', async ({
    infra,
    names,
    nats,
    temporal,
  }) => {
    // Starter, acknowledgements and API here; the worker in a process of its own.
    const s = await startResponseStack(infra, names, { roles: 'starter,acks,api' });
    const dir = join(infraDir, 'test', 'apps', `workflows-${names.id}`);
    const stallFile = join(dir, 'stalled.json');
    rmSync(stallFile, { force: true });
    const worker = new ManagedProcess({
      name: 'workflows-worker',
      command: process.execPath,
      args: [
        '--conditions=source',
        '--import',
        'tsx',
        join(repoRoot, 'workflows/test/fixtures/worker-process.ts'),
      ],
      logFile: join(dir, 'worker.log'),
      env: {
        ...s.workflowsEnv,
        WORKFLOWS_ROLES: 'worker',
        STALL_AFTER_NOTICE_FILE: stallFile,
        STALL_AT_CONTACT_RANK: '1',
      },
    });
    try {
      const cc = await s.token(['coordinator']);
      for (const id of ['cert-bayern', 'lka-bayern']) {
        const put = await rest(s, 'POST', '/v1/agencies', cc, {
          agency: {
            id,
            name: id,
            kind: id === 'cert-bayern' ? 'AGENCY_KIND_CSIRT' : 'AGENCY_KIND_LAW_ENFORCEMENT',
            jurisdictions: ['DE-BY'],
            sectors: ['energy'],
            clearance: 'TLP_RED',
            contacts: [
              { role: 'duty-officer', name: 'Duty officer', email: `duty@${id}.example` },
              { role: 'deputy', name: 'Deputy', email: `deputy@${id}.example` },
            ],
          },
        });
        expect(put.status).toBe(200);
      }
      worker.start();
      const opened = await rest(s, 'POST', '/v1/incidents', cc, {
        title: 'Intrusion at a grid operator',
        tlp: 'TLP_AMBER',
        classification: { rsitClass: 'intrusions', rsitType: 'system-compromise' },
        sectors: ['energy'],
        jurisdictions: ['DE-BY'],
        severityInputs: {
          ...NCISS_BASELINE,
          functionalImpact: 'denial-non-critical',
          observedActivity: 'effect',
        },
        awareAt: new Date().toISOString(),
      });
      expect(opened.status).toBe(201);
      const incidentId = (opened.body['incident'] as { id: string }).id;

      const response = temporal.workflow.getHandle<typeof incidentResponse>(responseWorkflowId(incidentId));
      await waitFor(
        async () => {
          const st = await response.query(statusQuery);
          if (st.phase !== 'active' || !st.agencies.every((a) => a.state === 'notified')) {
            throw new Error(`not yet: ${st.phase}`);
          }
        },
        { what: 'the response active, both agencies notified', timeoutMs: 60_000, intervalMs: 250 },
      );

      // The coordinator escalates cert-bayern: its deputy's notice goes out, and the worker is
      // stuck before reporting it. Kill it.
      expect(
        (await rest(s, 'POST', `/v1/responses/${incidentId}:escalate`, cc, { agencyId: 'cert-bayern' }))
          .status,
      ).toBe(200);
      await waitFor(
        async () => {
          if (!existsSync(stallFile))
            throw new Error(`no notice yet; ${worker.exitReason ?? 'worker running'}`);
        },
        { what: 'the escalation notice sent by the worker', timeoutMs: 30_000, intervalMs: 100 },
      );
      await worker.kill();
      expect(await noticeCount(s, nats, 'cert-bayern')).toBe(2);

      // A new worker process picks the response up again; the stalled activity times out and
      // is retried under the same key.
      worker.start();
      const status = await waitFor(
        async () => {
          const st = await response.query(statusQuery);
          if (st.agencies.find((a) => a.agencyId === 'cert-bayern')?.noticesSent !== 2)
            throw new Error('not yet');
          return st;
        },
        { what: 'the escalation completed after the restart', timeoutMs: 60_000, intervalMs: 250 },
      );
      expect(status.agencies.map((a) => [a.agencyId, a.state, a.role])).toEqual([
        ['cert-bayern', 'notified', 'deputy'],
        ['lka-bayern', 'notified', 'duty-officer'],
      ]);
      // The notice was attempted twice, and notify sent it once all the same.
      const events = (await response.fetchHistory()).events ?? [];
      const notices = new Set(
        events.flatMap((e) =>
          e.activityTaskScheduledEventAttributes?.activityType?.name === 'notifyEngagement'
            ? [String(e.eventId)]
            : [],
        ),
      );
      const attempts = events.flatMap((e) => {
        const started = e.activityTaskStartedEventAttributes;
        return started && notices.has(String(started.scheduledEventId)) ? [Number(started.attempt)] : [];
      });
      expect(Math.max(...attempts)).toBeGreaterThanOrEqual(2);
      expect(await noticeCount(s, nats, 'cert-bayern')).toBe(2);
      expect(await noticeCount(s, nats, 'lka-bayern')).toBe(1);

      // The response goes on: acknowledgements through the feed, resolution, closing.
      for (const agencyId of ['cert-bayern', 'lka-bayern']) {
        await waitFor(
          async () => {
            const answer = JSON.parse(
              new TextDecoder().decode(
                (await nats.request(`${s.ackRoot}.${agencyId}.${incidentId}`, '', { timeout: 5_000 })).data,
              ),
            ) as { ok: boolean; message?: string };
            if (!answer.ok) throw new Error(answer.message);
          },
          { what: `${agencyId} acknowledging`, timeoutMs: 20_000, intervalMs: 250 },
        );
      }
      await waitFor(
        async () => {
          const st = await response.query(statusQuery);
          if (!st.agencies.every((a) => a.state === 'acknowledged')) throw new Error('not yet');
        },
        { what: 'both acknowledged', timeoutMs: 30_000, intervalMs: 250 },
      );
      const resolved = await rest(s, 'POST', `/v1/responses/${incidentId}:resolve`, cc, {
        summary: 'access revoked',
      });
      expect([resolved.status, resolved.body]).toEqual([200, expect.anything()]);
      expect((await response.result()).phase).toBe('closed');
      // Each feed holds exactly the notices sent: cert-bayern's duty officer and deputy, once each.
      const ranks = async (agencyId: string) => {
        const subject = `${s.feeds.root}.${agencyId}.*.*.notify.engagement-requested`;
        const consumer = await jetstream(nats).consumers.get(s.feeds.stream, { filter_subjects: [subject] });
        const found: [string, number][] = [];
        for await (const m of await consumer.fetch({ max_messages: 10, expires: 2_000 })) {
          const notice = notifyV1.EngagementNotice.decode(eventsV1.Envelope.decode(m.data).data);
          found.push([notice.incidentId, notice.contactRank]);
        }
        return found;
      };
      expect(await ranks('cert-bayern')).toEqual([
        [incidentId, 0],
        [incidentId, 1],
      ]);
      expect(await ranks('lka-bayern')).toEqual([[incidentId, 0]]);
    } finally {
      await worker.stop();
      await s.stop();
    }
  }, 150_000);
});
