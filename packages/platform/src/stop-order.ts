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
}
