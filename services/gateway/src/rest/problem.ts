import { status } from '@grpc/grpc-js';
import { boundedViolations, type FieldViolation } from '@beacon/platform';

/** Google's mapping of gRPC status codes to HTTP, so both doors report the same outcome. */
export const HTTP_STATUS: Readonly<Record<number, number>> = {
  [status.CANCELLED]: 499,
  [status.UNKNOWN]: 500,
  [status.INVALID_ARGUMENT]: 400,
  [status.DEADLINE_EXCEEDED]: 504,
  [status.NOT_FOUND]: 404,
  [status.ALREADY_EXISTS]: 409,
  [status.PERMISSION_DENIED]: 403,
  [status.RESOURCE_EXHAUSTED]: 429,
  [status.FAILED_PRECONDITION]: 400,
  [status.ABORTED]: 409,
  [status.OUT_OF_RANGE]: 400,
  [status.UNIMPLEMENTED]: 501,
  [status.INTERNAL]: 500,
  [status.UNAVAILABLE]: 503,
  [status.DATA_LOSS]: 500,
  [status.UNAUTHENTICATED]: 401,
};

/** An RFC 9457 problem document, with the gRPC status name and any field violations. */
export interface Problem {
  readonly type: string;
  readonly title: string;
  readonly status: number;
  readonly detail: string;
  readonly grpcStatus: string;
  readonly violations?: readonly FieldViolation[];
}

const names = Object.fromEntries(Object.entries(status).map(([name, code]) => [code, name])) as Record<
  number,
  string
>;

/** The longest `detail` sent: it may quote the client, and a problem stays a few KiB. */
const MAX_DETAIL = 2_048;

/** A problem document; at most the first few violations, and a detail of at most 2 KiB. */
export function problem(code: status, detail: string, violations: readonly FieldViolation[] = []): Problem {
  const name = names[code] ?? 'UNKNOWN';
  const shown = boundedViolations(violations);
  return {
    type: `urn:beacon:problem:${name.toLowerCase().replaceAll('_', '-')}`,
    title: name
      .toLowerCase()
      .split('_')
      .map((w) => w[0]!.toUpperCase() + w.slice(1))
      .join(' '),
    status: HTTP_STATUS[code] ?? 500,
    detail: detail.length > MAX_DETAIL ? `${detail.slice(0, MAX_DETAIL)}…` : detail,
    grpcStatus: name,
    ...(shown.length > 0 ? { violations: shown } : {}),
  };
}
