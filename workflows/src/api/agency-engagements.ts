import { status } from '@grpc/grpc-js';
import type { Client } from '@temporalio/client';
import { defaultPayloadConverter, mapFromPayloads } from '@temporalio/common';
import { mayListEngagementsOf, mayRead, type Principal } from '@beacon/domain';
import { GrpcError, invalidArgument, type CallContext } from '@beacon/platform';
import type { responseV1 } from '@beacon/proto';
import { ENGAGEMENTS_MEMO_KEY, readEngagementsMemo } from '../domain/engagement-listing.js';
import type { CallerCredentials, IncidentReader } from './incident-access.js';
import { agencyEngagementToProto } from './response-proto.js';

export interface AgencyEngagementsDeps {
  readonly client: Client;
  /** Intake, asked as the caller whether each incident is there for it now. */
  readonly incidents: IncidentReader;
  /** The responses' task queue: the responses this deployment runs. */
  readonly taskQueue: string;
}

const AGENCY_ID = /^[a-z0-9][a-z0-9-]{0,62}$/;
const RESPONSE_ID = /^incident-(inc_[A-Za-z0-9]{1,64})$/;
const DEFAULT_PAGE_SIZE = 25;
const MAX_PAGE_SIZE = 100;
/** Visibility pages read at most for one answer when the caller may read few of the rows. */
const MAX_FETCHES = 4;
/** Intake reads in flight at once for one page. */
const READ_CONCURRENCY = 16;

/** The page token: Temporal's, bound to the agency listed so it is never replayed for another. */
interface PageToken {
  readonly a: string;
  readonly t: string;
}

const violation = (field: string, description: string) => ({ field, description, reason: 'INVALID' });

function decodeToken(text: string, agencyId: string): Uint8Array | undefined {
  if (!text) return undefined;
  let token: Partial<PageToken> | undefined;
  try {
    token = JSON.parse(Buffer.from(text, 'base64url').toString('utf8')) as Partial<PageToken>;
  } catch {
    token = undefined;
  }
  if (typeof token?.t !== 'string' || token.a !== agencyId || token.t === '') {
    throw invalidArgument([violation('page_token', 'is not a page token of this list')]);
  }
  return Buffer.from(token.t, 'base64url');
}

const encodeToken = (agencyId: string, next: Uint8Array) =>
  Buffer.from(
    JSON.stringify({ a: agencyId, t: Buffer.from(next).toString('base64url') } satisfies PageToken),
  ).toString('base64url');

/** `fn` over `items`, at most `limit` at a time, results in order. */
async function mapLimited<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<R>,
): Promise<R[]> {
  const results: R[] = new Array<R>(items.length);
  let next = 0;
  const lane = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
  return results;
}

/**
 * `ListAgencyEngagements`: the responses that engaged the agency, from Temporal's Visibility
 * (the `AgencyIds` search attribute, each with its `engagements` memo: see
 * `workflows/engagement-visibility.ts` for why there). Who may list is decided by role and
 * agency alone, before anything is looked up; each row is then shown only if intake shows its
 * incident to the caller now and the trust policy lets the caller read it: an agency removed
 * from an AMBER incident finds it gone from its list, as from everywhere else.
 */
export function listAgencyEngagements(deps: AgencyEngagementsDeps) {
  return async (
    req: responseV1.ListAgencyEngagementsRequest,
    caller: Principal,
    context: CallContext,
  ): Promise<responseV1.ListAgencyEngagementsResponse> => {
    const { agencyId } = req;
    const violations = [
      ...(AGENCY_ID.test(agencyId) ? [] : [violation('agency_id', 'is not an agency id')]),
      ...(req.pageSize >= 0 && req.pageSize <= MAX_PAGE_SIZE
        ? []
        : [violation('page_size', `must be 0 to ${MAX_PAGE_SIZE}`)]),
    ];
    if (violations.length > 0) throw invalidArgument(violations);
    if (!mayListEngagementsOf(caller, agencyId)) {
      throw new GrpcError(
        status.PERMISSION_DENIED,
        "an agency lists only its own engagements; the coordination centre lists any agency's",
      );
    }
    const pageSize = req.pageSize || DEFAULT_PAGE_SIZE;
    let token = decodeToken(req.pageToken, agencyId);
    const authorization = context.metadata.get('authorization')[0];
    const credentials: CallerCredentials = {
      authorization: typeof authorization === 'string' ? authorization : '',
      deadline: context.deadline,
      signal: context.signal,
    };
    // The agency id is checked against AGENCY_ID above, so it cannot break out of the quotes.
    const query =
      `WorkflowType = 'incidentResponse' AND TaskQueue = '${deps.taskQueue}' ` +
      `AND AgencyIds = '${agencyId}' AND ExecutionStatus != 'ContinuedAsNew'`;

    const engagements: responseV1.AgencyEngagement[] = [];
    const seen = new Set<string>();
    for (let fetches = 0; fetches < MAX_FETCHES && engagements.length < pageSize; fetches++) {
      const page = await deps.client.workflowService
        .listWorkflowExecutions({
          namespace: deps.client.options.namespace,
          pageSize: pageSize - engagements.length,
          query,
          ...(token ? { nextPageToken: token } : {}),
        })
        .catch((error: unknown) => {
          // Temporal refuses a token it did not issue; anything else is Visibility failing.
          if ((error as { code?: number }).code === status.INVALID_ARGUMENT && token) {
            throw invalidArgument([violation('page_token', 'is not a page token of this list')]);
          }
          throw new GrpcError(status.UNAVAILABLE, 'engagements cannot be listed now; try again', {
            cause: error,
          });
        });
      const rows = (page.executions ?? []).flatMap((execution) => {
        const incidentId = RESPONSE_ID.exec(execution.execution?.workflowId ?? '')?.[1];
        if (!incidentId || seen.has(incidentId)) return [];
        seen.add(incidentId);
        const memo = readEngagementsMemo(
          mapFromPayloads(defaultPayloadConverter, execution.memo?.fields ?? {})?.[ENGAGEMENTS_MEMO_KEY],
        );
        const row = memo?.agencies.find((a) => a.agencyId === agencyId);
        return memo && row ? [{ incidentId, memo, row }] : [];
      });
      const incidents = await mapLimited(rows, READ_CONCURRENCY, (r) =>
        deps.incidents.read(r.incidentId, credentials),
      );
      rows.forEach((r, i) => {
        const incident = incidents[i];
        if (incident && mayRead(caller, incident)) {
          engagements.push(agencyEngagementToProto(r.incidentId, incident, r.memo, r.row));
        }
      });
      token = page.nextPageToken && page.nextPageToken.length > 0 ? page.nextPageToken : undefined;
      if (!token) break;
    }
    return { engagements, nextPageToken: token ? encodeToken(agencyId, token) : '' };
  };
}
