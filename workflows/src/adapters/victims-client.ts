import { victimsV1 } from '@beacon/proto';
import type { VictimsPort } from '../activities/create-activities.js';
import type { CheckInResult, VictimCase } from '../activities/types.js';
import type { TokenSource } from '@beacon/platform';
import { grpcCall } from './grpc-call.js';

/** Cases of one incident the follow-up reads; a campaign beyond this is followed up in part. */
const MAX_CASES = 2_000;

/**
 * The victims service as the response's victim follow-up uses it, with the worker's service
 * identity: calls that read the follow-up schedule and case summaries, which carry no personal
 * data.
 *
 * - A check-in is made by a person who speaks to the victim, and the officer records its
 *   outcome in the victims service. At each check-in day the workflow reads the follow-up as
 *   recorded: the case is urgent when the victims service flagged it (a risk disclosed, a
 *   check-in that found the victim needing help) or a check-in due a day ago is still open.
 * - The victims service routes an urgent case to a crisis-capable organisation itself, at
 *   once; the workflow's escalation is the response's own record and event of it, so there
 *   is nothing more to ask of the victims service here.
 */
export class GrpcVictimsPort implements VictimsPort {
  constructor(
    private readonly client: victimsV1.VictimsServiceClient,
    private readonly token: TokenSource,
    private readonly timeoutMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  async listCases(incidentId: string): Promise<string[]> {
    const ids: string[] = [];
    let pageToken = '';
    do {
      const page = await grpcCall<victimsV1.ListCasesResponse>(this.token, this.timeoutMs, (md, o, done) =>
        this.client.listCases(
          { incidentId, pageSize: 500, pageToken, urgentOnly: false, includeClosed: false },
          md,
          o,
          done,
        ),
      );
      ids.push(...page.cases.map((c) => c.id));
      pageToken = page.nextPageToken;
    } while (pageToken && ids.length < MAX_CASES);
    return ids.slice(0, MAX_CASES);
  }

  async getCase(caseId: string): Promise<VictimCase> {
    const followUp = await this.#followUp(caseId);
    return { caseId, urgency: this.#urgency(followUp) };
  }

  async recordCheckIn(caseId: string, checkIn: { readonly day: number }): Promise<CheckInResult> {
    const followUp = await this.#followUp(caseId);
    const { CHECK_IN_STATE_DONE: done, CHECK_IN_STATE_DUE: due } = victimsV1.CheckInState;
    const made = followUp.checkIns.filter((c) => c.state === done).length;
    const open = followUp.checkIns.filter((c) => c.state === due).length;
    return {
      urgency: this.#urgency(followUp),
      note: `day ${checkIn.day}: ${made} check-ins made, ${open} open${followUp.contactAllowed ? '' : ', no contact consent'}`,
    };
  }

  async escalateCase(): Promise<void> {
    // See the class comment: the victims service escalated the case when it flagged it urgent.
  }

  async #followUp(caseId: string): Promise<victimsV1.FollowUp> {
    const response = await grpcCall<victimsV1.GetFollowUpResponse>(
      this.token,
      this.timeoutMs,
      (md, o, done) => this.client.getFollowUp({ caseId }, md, o, done),
    );
    if (!response.followUp) throw new Error(`the victims service sent no follow-up for ${caseId}`);
    return response.followUp;
  }

  #urgency(followUp: victimsV1.FollowUp): 'urgent' | 'routine' {
    const overdue = followUp.checkIns.some(
      (c) =>
        c.state === victimsV1.CheckInState.CHECK_IN_STATE_DUE &&
        c.dueAt !== undefined &&
        c.dueAt.getTime() < this.now() - 24 * 3_600_000,
    );
    return followUp.urgent || followUp.reviewRequested || overdue ? 'urgent' : 'routine';
  }
}
