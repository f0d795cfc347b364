import { condition, patched, upsertMemo, upsertSearchAttributes } from '@temporalio/workflow';
import {
  engagementsMemo,
  ENGAGEMENTS_MEMO_KEY,
  type EngagementsMemo,
  type ResponseFacts,
} from '../domain/engagement-listing.js';
import type { ResponsePolicy } from '../domain/policy.js';
import {
  AGENCY_IDS_ATTRIBUTE,
  type AcknowledgementInput,
  type AgencyEngagementStatus,
} from './definitions.js';

/**
 * Responses from here on keep their engagements in Visibility; those started before carry on
 * as they were (until their next continue-as-new) and are not listed to agencies.
 */
export const ENGAGEMENT_VISIBILITY_PATCH = 'engagement-visibility';

export interface EngagementVisibility {
  /** Writes the engagements now if they changed (before a phase change ends the workflow). */
  publish(): void;
}

/**
 * Keeps a response's engagements where an agency's list of them is read: the `AgencyIds`
 * search attribute (every agency engaged, removed ones included) and the `engagements` memo
 * (each one's state, step, deadlines; `engagement-listing.ts`).
 *
 * Why Temporal's Visibility and not a store of our own: the response is the one writer of an
 * engagement's state, and Visibility is already the index of responses that Temporal keeps
 * current from each workflow task: `AgencyIds = 'cert-x'` is an indexed lookup (SQL or
 * Elasticsearch), paged by the server, and the memo comes back with each row, so a page of 100
 * incidents is one call whatever the number of incidents, with no query to a worker (which
 * would replay closed responses) and no second copy to keep in step with the workflows. What
 * Visibility does not know, who may read each incident now, the API asks intake for each row.
 *
 * Written after any change from a handler or the main loop: a condition re-checked on every
 * activation compares the memo with the one written last. Nothing is written before the first
 * engagement, so responses that engage nobody cost nothing here.
 */
export function followEngagements(
  facts: () => ResponseFacts,
  policy: ResponsePolicy,
  /** A lean response: kept in Visibility without asking the patch (`lean-triage` implies it). */
  implied = false,
): EngagementVisibility {
  if (!implied && !patched(ENGAGEMENT_VISIBILITY_PATCH)) return { publish: () => undefined };
  // Per run, not carried over continue-as-new: a new run writes once more, which is harmless.
  let written = '';
  let writtenAgencies = '';
  const current = (): { memo: EngagementsMemo; text: string } => {
    const memo = engagementsMemo(facts(), policy);
    return { memo, text: JSON.stringify(memo) };
  };
  const due = ({ memo, text }: { memo: EngagementsMemo; text: string }) =>
    text !== written && (memo.agencies.length > 0 || written !== '');

  const publish = () => {
    const now = current();
    if (!due(now)) return;
    const ids = now.memo.agencies.map((a) => a.agencyId);
    const idsText = JSON.stringify(ids);
    // The attribute first: a response is never found by an agency without its memo beside it.
    if (idsText !== writtenAgencies) {
      upsertSearchAttributes([{ key: AGENCY_IDS_ATTRIBUTE, value: ids }]);
      writtenAgencies = idsText;
    }
    upsertMemo({ [ENGAGEMENTS_MEMO_KEY]: now.memo });
    written = now.text;
  };

  void (async () => {
    for (;;) {
      await condition(() => due(current()));
      publish();
    }
  })();
  return { publish };
}

/** What an engagement keeps of its acknowledgement: when, how, and who when known. */
export function acknowledgedFields(
  ack: AcknowledgementInput,
): Pick<AgencyEngagementStatus, 'acknowledgedAtMs' | 'via' | 'acknowledgedBy'> {
  return { acknowledgedAtMs: ack.atMs, via: ack.via, ...(ack.by ? { acknowledgedBy: ack.by } : {}) };
}
