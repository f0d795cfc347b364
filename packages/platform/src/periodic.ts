import type { Logger } from './logger.js';

/**
 * A periodic scan waits at least this many times as long as it took before it runs again, so it
 * takes at most a twentieth of the time. Recovery sweeps read whole collections on FerretDB
 * (only `{_id}` filters are served from an index): at 20,000 incidents one read took 3 to 5 s
 * here, while writes ran beside it. With a fixed period, three such sweeps every 30 s would
 * keep the store busy a third of the time or more, a share that grows with the data until
 * sweeps run back to back. Spaced by their own duration, they cost the store a bounded share,
 * and what they recover (work a crash left) waits longer as the data grows: one to one and a
 * half minutes at 20,000 documents.
 */
export const SWEEP_SPACING = 19;

/** How long to wait after a sweep of `periodMs` that took `tookMs` (see `SWEEP_SPACING`). */
export function sweepDelay(periodMs: number, tookMs: number): number {
  return Math.max(periodMs - tookMs, SWEEP_SPACING * tookMs, 0);
}

export interface Repeating {
  /** No further run starts; resolves when the one under way, if any, has ended. */
  stop(): Promise<void>;
}

/**
 * Runs `task` every `periodMs`, never two runs at once and spaced by their duration
 * (`sweepDelay`). A run that resolves to `true` found a full batch: the next starts at once.
 * A failed run is logged and the next one comes as usual.
 */
export function repeat(
  task: () => Promise<boolean | void>,
  options: { readonly periodMs: number; readonly logger: Logger; readonly what: string },
): Repeating {
  let stopped = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let running: Promise<void> | undefined;
  const run = () => {
    running = (async () => {
      const started = performance.now();
      let more = false;
      try {
        more = (await task()) === true;
      } catch (error) {
        options.logger.warn({ err: error }, `${options.what} failed`);
      }
      running = undefined;
      const wait = more ? 0 : sweepDelay(options.periodMs, performance.now() - started);
      if (!stopped) timer = setTimeout(run, wait);
    })();
  };
  timer = setTimeout(run, options.periodMs);
  return {
    stop: async () => {
      stopped = true;
      clearTimeout(timer);
      await running;
    },
  };
}
