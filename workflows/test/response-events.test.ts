/**
 * The response's events on real JetStream: an activity that is retried after its publish went
 * through publishes again; the stream keeps one copy and the escalation metric counts one.
 */
import { credentials } from '@grpc/grpc-js';
import { jetstream } from '@nats-io/jetstream';
import { MockActivityEnvironment } from '@temporalio/testing';
import { describe, expect } from 'vitest';
import { ensureStream, Metrics } from '@beacon/platform';
import { intakeV1, notifyV1 } from '@beacon/proto';
import { test } from '@beacon/testkit';
import { createActivities } from '../src/activities/create-activities.js';
import type { ResponseEvent } from '../src/activities/types.js';
import { jetStreamEventPublisher } from '../src/adapters/event-publisher.js';
import { responseMetrics } from '../src/adapters/response-metrics.js';

describe('response events', () => {
  test('a retried publish stores one event and counts one escalation', async ({ nats, jsm, names }) => {
    const root = names.subject('beacon.evt');
    const stream = names.stream('EVENTS');
    await ensureStream(jsm, { name: stream, subjects: [`${root}.>`] });
    const metrics = new Metrics({ processMetrics: false });
    // Neither service is called by this activity: the clients point nowhere.
    const nowhere = '127.0.0.1:9';
    const activities = createActivities({
      intake: new intakeV1.IntakeServiceClient(nowhere, credentials.createInsecure()),
      notify: new notifyV1.NotifyServiceClient(nowhere, credentials.createInsecure()),
      publish: jetStreamEventPublisher(jetstream(nats), root),
      timeline: { append: () => Promise.reject(new Error('not used here')) },
      token: async () => 'unused',
      events: responseMetrics(metrics),
    });
    const escalation: ResponseEvent = {
      type: 'engagement-escalated',
      incidentId: 'inc_1',
      tlp: 'AMBER',
      agencyId: 'cert-a',
      toAgencyId: 'cert-a',
      contactRank: 2,
      role: 'deputy',
      round: 1,
      atMs: Date.parse('2026-11-29T05:00:00Z'),
    };
    const publish = (event: ResponseEvent) => activities.publishResponseEvent(event);
    // One activity (same workflow run and activity id), attempted twice.
    const attempt = (n: number) =>
      new MockActivityEnvironment({
        activityId: '7',
        attempt: n,
        workflowExecution: { workflowId: 'response-inc_1', runId: 'run-1' },
      }).run(publish, escalation);
    await attempt(1);
    await attempt(2);
    // A different activity's escalation is a new one.
    await new MockActivityEnvironment({
      activityId: '8',
      workflowExecution: { workflowId: 'response-inc_1', runId: 'run-1' },
    }).run(publish, { ...escalation, round: 2 });

    expect((await jsm.streams.info(stream)).state.messages).toBe(2);
    expect(await metrics.render()).toContain('beacon_response_escalations_total{kind="engagement"} 2');
  });
});
