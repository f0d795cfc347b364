import type { Logger } from './logger.js';

/**
 * The closers of what a process or service started, run last opened first: stop taking work
 * before closing what the work needs. Stopping runs them once; a start that fails part-way
 * closes what it had opened, so it leaves no connection open.
 */
export class StopOrder {
  readonly #closers: (() => unknown)[] = [];
  #stopping: Promise<void> | undefined;

  /** Registers a closer, run before every one registered earlier. */
  push(close: () => unknown): void {
    this.#closers.push(close);
  }

  /** Whether `stop` has been called. */
  get stopping(): boolean {
    return this.#stopping !== undefined;
  }

  /** Runs the closers, last registered first; every later call shares the first one's run. */
  stop(): Promise<void> {
    return (this.#stopping ??= (async () => {
      for (const close of [...this.#closers].reverse()) await close();
    })());
  }

  /**
   * After a failed start: closes what had opened. A failure to close is logged, not thrown, so the
   * start's own error is the one its caller sees.
   */
  async stopAfterFailedStart(logger: Logger): Promise<void> {
    await this.stop().catch((closeError: unknown) =>
      logger.warn({ err: closeError }, 'closing after a failed start failed'),
    );
  }
}
