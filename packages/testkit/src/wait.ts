import { setTimeout as delay } from 'node:timers/promises';

export interface WaitOptions {
  /** What is awaited, for the error message. */
  readonly what: string;
  readonly timeoutMs: number;
  /** Pause between attempts; the condition itself decides when we are done. */
  readonly intervalMs?: number;
  /** Checked between attempts; a message here ends the wait at once (e.g. the process died). */
  readonly abortIf?: () => string | undefined;
}

/**
 * Calls `attempt` until it resolves, and returns its value. Each failure is kept, so the
 * timeout error says why the last attempt failed rather than only that time ran out.
 */
export async function waitFor<T>(attempt: () => Promise<T>, options: WaitOptions): Promise<T> {
  const deadline = Date.now() + options.timeoutMs;
  let lastError: unknown;
  for (;;) {
    const abort = options.abortIf?.();
    if (abort) throw new Error(`${options.what}: ${abort}`);
    try {
      return await attempt();
    } catch (error) {
      lastError = error;
    }
    if (Date.now() >= deadline) {
      const reason = lastError instanceof Error ? lastError.message : String(lastError);
      throw new Error(`${options.what}: not ready within ${options.timeoutMs} ms (last error: ${reason})`);
    }
    await delay(options.intervalMs ?? 100);
  }
}
