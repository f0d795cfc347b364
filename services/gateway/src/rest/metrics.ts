import type { Metrics } from '@beacon/platform';

/** Methods that get their own label value; any other a client invents is `other`. */
const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

/** The route label of a request no route matched: the path itself would be unbounded. */
export const UNMATCHED_ROUTE = 'unmatched';

export type RecordRequest = (
  method: string | undefined,
  route: string,
  status: number,
  seconds: number,
) => void;

/**
 * REST metrics by route template, never by raw path (ids in paths would make a series per
 * incident): `http_server_requests_total{method, route, status}` and
 * `http_server_request_duration_seconds{method, route}`. Children are kept per label set, so a
 * request costs two map lookups and no label objects.
 */
export function restMetrics(metrics: Metrics): RecordRequest {
  const requests = metrics.counter(
    'http_server_requests_total',
    'REST requests answered, by method, route template and status.',
    ['method', 'route', 'status'],
  );
  const seconds = metrics.histogram(
    'http_server_request_duration_seconds',
    'Time from a REST request’s arrival to its answer, in seconds.',
    ['method', 'route'],
  );
  const counters = new Map<string, { inc(): void }>();
  const timers = new Map<string, { observe(value: number): void }>();
  return (rawMethod, route, status, elapsed) => {
    const method = rawMethod && METHODS.has(rawMethod) ? rawMethod : 'other';
    const timerKey = `${method} ${route}`;
    let timer = timers.get(timerKey);
    if (!timer) timers.set(timerKey, (timer = seconds.labels(method, route)));
    timer.observe(elapsed);
    const counterKey = `${timerKey} ${status}`;
    let counter = counters.get(counterKey);
    if (!counter) counters.set(counterKey, (counter = requests.labels(method, route, String(status))));
    counter.inc();
  };
}
