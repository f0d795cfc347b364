import { setTimeout as delay } from 'node:timers/promises';

/** What a stack still settling answers with: the gateway is up before what stands behind it. */
const SETTLING_STATUSES = new Set([502, 503, 504]);

export interface SettleOptions {
  /** How long to keep trying; the last answer or error is the caller's after that. */
  readonly withinMs?: number;
  /** The first pause; it doubles up to four seconds. */
  readonly firstDelayMs?: number;
}

/**
 * Runs `attempt` again while it fails as a stack that is still starting fails (`settling`),
 * pausing 250 ms and doubling up to 4 s, until `withinMs` (a minute) has passed. Only for what
 * may be done twice: requests idempotent by their id or their Idempotency-Key.
 */
export async function whenSettled<T>(
  attempt: () => Promise<T>,
  settling: (error: unknown) => boolean,
  options: SettleOptions = {},
): Promise<T> {
  const deadline = Date.now() + (options.withinMs ?? 60_000);
  for (let pause = options.firstDelayMs ?? 250; ; pause = Math.min(pause * 2, 4_000)) {
    try {
      return await attempt();
    } catch (error) {
      if (!settling(error) || Date.now() + pause > deadline) throw error;
    }
    await delay(pause);
  }
}

/** A 502, 503 or 504, passed back to the caller once the stack had time enough to settle. */
class SettlingAnswer extends Error {
  constructor(readonly response: Response) {
    super(`answered ${response.status}`);
  }
}

/**
 * `fetch`, sent again while the stack settles: a refused connection (fetch's TypeError) or a
 * 502/503/504 is tried again (see `whenSettled`); any other answer is returned at once, and so
 * is the last settling one once the time is up.
 */
export async function fetchWhenSettled(
  url: string,
  init?: RequestInit,
  options?: SettleOptions,
): Promise<Response> {
  try {
    return await whenSettled(
      async () => {
        const response = await fetch(url, init);
        if (SETTLING_STATUSES.has(response.status)) throw new SettlingAnswer(response);
        return response;
      },
      (error) => error instanceof SettlingAnswer || error instanceof TypeError,
      options,
    );
  } catch (error) {
    if (error instanceof SettlingAnswer) return error.response;
    throw error;
  }
}
