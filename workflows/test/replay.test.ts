/**
 * Determinism: every saved history (recorded from the time-skipping scenarios with the workflow
 * code of its tag, e.g. v1) replays against today's workflow code without a non-determinism
 * error. A change to a workflow must keep old histories replaying — guard it with `patched`.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { Worker, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { beforeAll, describe, expect, it } from 'vitest';
import { bundleResponseWorkflows } from '../src/worker.js';
import { ESCALATION_EVENTS_PATCH } from '../src/workflows/agency-engagement.js';
import { INLINE_ENGAGEMENTS_PATCH } from '../src/workflows/engagement-runs.js';
import { ENGAGEMENT_VISIBILITY_PATCH } from '../src/workflows/engagement-visibility.js';
import { ESCALATE_REPORTS_PATCH } from '../src/workflows/escalation.js';
import { MERGE_HAND_OVER_PATCH } from '../src/workflows/merge-hand-over.js';
import { LEAN_TRIAGE_PATCH } from '../src/workflows/incident-response.js';
import { TIMELINE_STORE_PATCH } from '../src/workflows/timeline-keeper.js';
import { QUIET_AFTER_RESPONSE_PATCH, VICTIM_FOLLOW_UPS_PATCH } from '../src/workflows/victim-follow-ups.js';
import { HISTORIES_DIR, quietTemporal } from './support/time-skipping.js';

interface SavedEvent {
  readonly workflowExecutionStartedEventAttributes?: { readonly workflowType?: { readonly name?: string } };
  readonly activityTaskScheduledEventAttributes?: { readonly activityType?: { readonly name?: string } };
  readonly startChildWorkflowExecutionInitiatedEventAttributes?: {
    readonly workflowType?: { readonly name?: string };
  };
  readonly markerRecordedEventAttributes?: {
    readonly markerName?: string;
    readonly details?: Record<string, { readonly payloads?: readonly { readonly data?: string }[] }>;
  };
}

interface SavedHistory {
  readonly file: string;
  readonly workflowType: string;
  readonly history: { readonly events: readonly SavedEvent[] };
}

/** The ids of the `patched` markers in a history. */
function patchesIn(history: SavedHistory['history']): string[] {
  return history.events.flatMap((e) => {
    const marker = e.markerRecordedEventAttributes;
    if (marker?.markerName !== 'core_patch') return [];
    const data = marker.details?.['patch-data']?.payloads?.[0]?.data;
    return data ? [(JSON.parse(Buffer.from(data, 'base64').toString('utf8')) as { id: string }).id] : [];
  });
}

/** The activity types of the local activities a history recorded (markers named `core_local_activity`). */
function localActivities(history: SavedHistory['history']): string[] {
  return history.events.flatMap((e) => {
    const marker = e.markerRecordedEventAttributes;
    if (marker?.markerName !== 'core_local_activity') return [];
    const data = marker.details?.['data']?.payloads?.[0]?.data;
    return data
      ? [
          (JSON.parse(Buffer.from(data, 'base64').toString('utf8')) as { activity_type: string })
            .activity_type,
        ]
      : [];
  });
}

/** The types of the activities (not local) a history scheduled, and of the children it started. */
function scheduled(history: SavedHistory['history']): string[] {
  return history.events.flatMap((e) => {
    const name =
      e.activityTaskScheduledEventAttributes?.activityType?.name ??
      e.startChildWorkflowExecutionInitiatedEventAttributes?.workflowType?.name;
    return name ? [name] : [];
  });
}

/** Every payload of a history, decoded, as one text to search. */
function payloadText(history: unknown): string {
  const texts: string[] = [];
  const walk = (value: unknown) => {
    if (Array.isArray(value)) value.forEach(walk);
    else if (value && typeof value === 'object') {
      for (const [key, inner] of Object.entries(value)) {
        if (key === 'data' && typeof inner === 'string')
          texts.push(Buffer.from(inner, 'base64').toString('utf8'));
        else walk(inner);
      }
    }
  };
  walk(history);
  return texts.join('\n');
}

function savedHistories(): SavedHistory[] {
  const files: string[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      if (entry.isDirectory()) walk(join(dir, entry.name));
      else if (entry.name.endsWith('.json')) files.push(join(dir, entry.name));
    }
  };
  walk(HISTORIES_DIR);
  return files.sort().map((file) => {
    const history = JSON.parse(readFileSync(file, 'utf8')) as SavedHistory['history'];
    return {
      file: relative(HISTORIES_DIR, file),
      workflowType: history.events[0]?.workflowExecutionStartedEventAttributes?.workflowType?.name ?? '?',
      history,
    };
  });
}

describe('saved histories', () => {
  const saved = savedHistories();
  let bundle: WorkflowBundleWithSourceMap;

  beforeAll(async () => {
    quietTemporal();
    bundle = await bundleResponseWorkflows();
  }, 60_000);

  it('are replayed against a bundle carrying the real punycode, which IDN observables need', () => {
    // Not the empty stub the bundler puts in place of Node built-ins (see `bundleResponseWorkflows`).
    expect(bundle.code).toContain('Overflow: input needs wider integers to process');
  });

  it('cover every workflow of the response', () => {
    expect(new Set(saved.map((s) => s.workflowType))).toEqual(
      new Set([
        'incidentResponse',
        'agencyEngagement',
        'regulatoryClock',
        'victimFollowUp',
        'victimFollowUps',
      ]),
    );
  });

  it('include a merge handed over by one response and taken over by the other, with the patch', () => {
    const merge = saved.filter((s) => s.file.startsWith('v3/merge/'));
    expect(merge.map((s) => s.workflowType).sort()).toEqual([
      'incidentResponse',
      'incidentResponse',
      'regulatoryClock',
      'regulatoryClock',
    ]);
    const responses = merge.filter((s) => s.workflowType === 'incidentResponse');
    expect(responses.every((s) => patchesIn(s.history).includes(MERGE_HAND_OVER_PATCH))).toBe(true);
    // Every response history recorded before it carries on without the patch.
    expect(
      saved
        .filter((s) => /^v[12]\//.test(s.file) && s.workflowType === 'incidentResponse')
        .every((s) => !patchesIn(s.history).includes(MERGE_HAND_OVER_PATCH)),
    ).toBe(true);
  });

  it('include engagements from before and after the escalation-events patch', () => {
    const engagements = saved.filter((s) => s.workflowType === 'agencyEngagement');
    const patchedOnes = engagements.filter((s) => patchesIn(s.history).includes(ESCALATION_EVENTS_PATCH));
    expect(new Set(patchedOnes.map((s) => s.file.split('/')[0]))).toEqual(new Set(['v2', 'v6']));
    expect(engagements.filter((s) => s.file.startsWith('v1/')).length).toBeGreaterThan(0);
    expect(
      engagements.filter((s) => s.file.startsWith('v1/')).every((s) => patchesIn(s.history).length === 0),
    ).toBe(true);
  });

  it('include a response that keeps its engagements in Visibility, and responses from before', () => {
    const responses = saved.filter((s) => s.workflowType === 'incidentResponse');
    const keeping = responses.filter((s) => patchesIn(s.history).includes(ENGAGEMENT_VISIBILITY_PATCH));
    // Recorded after it: v4's commands, and every response since (v5 on).
    expect(keeping.filter((s) => /^v[1-4]\//.test(s.file)).map((s) => s.file)).toEqual([
      'v4/commands/incident-inc_commands.json',
    ]);
    expect(responses.length).toBeGreaterThan(keeping.length);
  });

  it('include an escalation answered after it, and a second ransom payment with its own report', () => {
    const payments = saved.filter((s) => s.file.startsWith('v4/payments/'));
    expect(payments.map((s) => s.workflowType).sort()).toEqual(['incidentResponse', 'regulatoryClock']);
    const response = payments.find((s) => s.workflowType === 'incidentResponse')!;
    expect(patchesIn(response.history)).toContain(ESCALATE_REPORTS_PATCH);
    expect(payloadText(payments.find((s) => s.workflowType === 'regulatoryClock')!.history)).toContain(
      'circia-ransom-payment-report-2',
    );
    // Escalations recorded before the patch replay without it.
    expect(
      saved
        .filter((s) => /^v[1-3]\//.test(s.file) && s.workflowType === 'incidentResponse')
        .every((s) => !patchesIn(s.history).includes(ESCALATE_REPORTS_PATCH)),
    ).toBe(true);
  });

  it('include a response keeping its timeline in the store across continue-as-new, and responses from before', () => {
    const storing = saved.filter((s) => patchesIn(s.history).includes(TIMELINE_STORE_PATCH));
    expect(storing.map((s) => s.file).sort()).toEqual([
      'v5/continue-as-new/incident-inc_long-run-c4366485.json',
      'v5/continue-as-new/incident-inc_long.json',
    ]);
    // Both runs flush to the store; the second stores first what the first handed over.
    for (const s of storing) expect(payloadText(s.history)).toContain('"seq":');
    expect(
      saved
        .filter((s) => /^v[1-4]\//.test(s.file))
        .every((s) => !patchesIn(s.history).includes(TIMELINE_STORE_PATCH)),
    ).toBe(true);
  });

  it('include lean responses, whose triage calls are local activities, and responses from before', () => {
    const responses = saved.filter((s) => s.workflowType === 'incidentResponse');
    // Lean since v6; from v7 on the inline-engagements marker alone says so, from v8 on the
    // victim-follow-ups one.
    const lean = responses.filter((s) =>
      patchesIn(s.history).some((p) =>
        [LEAN_TRIAGE_PATCH, INLINE_ENGAGEMENTS_PATCH, VICTIM_FOLLOW_UPS_PATCH].includes(p),
      ),
    );
    expect(new Set(lean.map((s) => s.file.split('/')[0]))).toEqual(new Set(['v6', 'v7', 'v8']));
    // Its first run reads the incident into triage with a local activity; a run it hands over to
    // carries the choice in its input, without the marker.
    expect(lean.every((s) => localActivities(s.history).includes('enterTriage'))).toBe(true);
    expect(
      saved.filter((s) => /^v[678]\//.test(s.file) && s.workflowType === 'incidentResponse').length,
    ).toBeGreaterThan(lean.length);
    expect(
      responses
        .filter((s) => !/^v[678]\//.test(s.file))
        .every((s) => localActivities(s.history).length === 0),
    ).toBe(true);
    // Engagements a lean response started assign their agency with a local activity too.
    const engagements = saved.filter(
      (s) => s.file.startsWith('v6/') && s.workflowType === 'agencyEngagement',
    );
    expect(engagements.length).toBeGreaterThan(0);
    expect(engagements.every((s) => localActivities(s.history).includes('engageAgency'))).toBe(true);
  });

  it('include responses running their engagements inside them, and responses with engagement children', () => {
    const responses = saved.filter((s) => s.workflowType === 'incidentResponse');
    const inline = responses.filter((s) =>
      patchesIn(s.history).some((p) => p === INLINE_ENGAGEMENTS_PATCH || p === VICTIM_FOLLOW_UPS_PATCH),
    );
    expect(new Set(inline.map((s) => s.file.split('/')[0]))).toEqual(new Set(['v7', 'v8']));
    expect(saved.filter((s) => s.file.startsWith('v7/') && s.workflowType === 'agencyEngagement')).toEqual(
      [],
    );
    // The response assigns and notifies each agency itself (activities, not local ones: see
    // `startEngagement`), and starts no engagement workflow.
    const chain = saved.find((s) => s.file === 'v7/unacknowledged/incident-inc_chain.json')!;
    expect(scheduled(chain.history)).toEqual(expect.arrayContaining(['engageAgency', 'notifyEngagement']));
    expect(localActivities(chain.history)).not.toContain('engageAgency');
    // One marker, which implies a lean response: `lean-triage` is not asked.
    expect(patchesIn(chain.history)).toEqual([INLINE_ENGAGEMENTS_PATCH]);
    expect(inline.every((s) => !scheduled(s.history).includes('agencyEngagement'))).toBe(true);
    // The run a response hands over to carries its engagements on, without the marker.
    const handedOver = saved.find((s) => s.file === 'v7/continue-as-new/incident-inc_long.json')!;
    expect(patchesIn(handedOver.history)).not.toContain(INLINE_ENGAGEMENTS_PATCH);
    expect(scheduled(handedOver.history)).toContain('notifyEngagement');
    // Lean responses from before (v6) started engagement children.
    const before = responses.filter(
      (s) => s.file.startsWith('v6/') && patchesIn(s.history).includes(LEAN_TRIAGE_PATCH),
    );
    expect(before.some((s) => scheduled(s.history).includes('agencyEngagement'))).toBe(true);
  });

  it('include responses following their victim cases in one workflow, and responses with a child per case', () => {
    const responses = saved.filter((s) => s.workflowType === 'incidentResponse');
    const now = saved.find((s) => s.file === 'v8/victims/incident-inc_victims.json')!;
    // One marker, which implies the engagements inside and a lean response.
    expect(patchesIn(now.history)).toEqual([VICTIM_FOLLOW_UPS_PATCH]);
    // Started twice: again for a case that came after the first had ended.
    const followUpChildren = (s: SavedHistory) =>
      scheduled(s.history).filter((n) => n.startsWith('victimFollowUp'));
    expect(followUpChildren(now)).toEqual(['victimFollowUps', 'victimFollowUps']);
    const followUps = saved.filter((s) => s.workflowType === 'victimFollowUps');
    expect(new Set(followUps.map((s) => s.file.split('/').slice(0, 2).join('/')))).toEqual(
      new Set(['v8/victims', 'v8/campaign', 'v9/gone']),
    );
    // Follow-ups whose response had ended told it once, then nothing more.
    const gone = followUps.find((s) => s.file.startsWith('v9/gone/'))!;
    expect(patchesIn(gone.history)).toEqual([QUIET_AFTER_RESPONSE_PATCH]);
    // A campaign's follow-ups handed on to a new run, which carries the cases it knew.
    expect(followUps.some((s) => payloadText(s.history).includes('"resumed"'))).toBe(true);
    // Responses from before started one child per case, and still replay so.
    const before = saved.find((s) => s.file === 'v7/victims/incident-inc_victims.json')!;
    expect(followUpChildren(before)).toEqual(['victimFollowUp', 'victimFollowUp']);
    expect(
      responses
        .filter((s) => !s.file.startsWith('v8/'))
        .every((s) => !patchesIn(s.history).includes(VICTIM_FOLLOW_UPS_PATCH)),
    ).toBe(true);
  });

  it('replay against the current workflow code without non-determinism', async () => {
    const results = Worker.runReplayHistories(
      { workflowBundle: bundle, replayName: 'saved-histories' },
      saved.map((s) => ({ workflowId: s.file, history: s.history })),
    );
    const outcomes: [string, string][] = [];
    for await (const result of results) {
      outcomes.push([result.workflowId, result.error ? String(result.error) : 'ok']);
    }
    expect(outcomes).toEqual(saved.map((s) => [s.file, 'ok']));
  });
});
