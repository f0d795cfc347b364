import type { IncidentFacts } from './ports.js';

/** What the re-assessment reads: the incidents assessed so far, page by page. */
export interface AssessedIncidents {
  /** Incidents with an assessment, by id after `after`: what each told impact last. */
  incidentPage(
    after: string | undefined,
    limit: number,
  ): Promise<{ readonly items: readonly IncidentFacts[]; readonly next: string | undefined }>;
}

export interface ReassessmentOptions {
  readonly incidents: AssessedIncidents;
  /** Assesses one incident on the current graph; stores and announces it only when it changed. */
  readonly reassess: (incident: IncidentFacts) => Promise<'assessed' | 'unchanged'>;
  /** How long after a registry change the run starts: a burst of changes shares one run. */
  readonly delayMs: number;
  readonly onError?: (error: unknown) => void;
}

const PAGE = 200;

/**
 * Re-assesses every assessed incident after the registry changed (an import, an asset or a
 * dependency put or removed), so that a cascade computed before the registry knew an asset is
 * brought up to date without anyone asking: its `impact.assessed` event then reaches the
 * incident's response and the agencies' feeds. Changes within `delayMs` of each other, and
 * those made while a run is under way, are covered by one run (the next). An incident whose
 * cascade is the same is neither stored nor announced again.
 */
export class Reassessment {
  #timer: ReturnType<typeof setTimeout> | undefined;
  #running: Promise<void> | undefined;
  #again = false;
  #closed = false;

  constructor(private readonly options: ReassessmentOptions) {}

  /** The registry changed: a run starts `delayMs` from the first change not yet covered. */
  schedule(): void {
    if (this.#closed) return;
    if (this.#running) {
      this.#again = true;
      return;
    }
    this.#timer ??= setTimeout(() => {
      this.#timer = undefined;
      this.#running = this.#run().finally(() => {
        this.#running = undefined;
        if (this.#again) {
          this.#again = false;
          this.schedule();
        }
      });
    }, this.options.delayMs);
  }

  /** Re-assesses every assessed incident now; returns how many changed. */
  async runNow(): Promise<number> {
    let changed = 0;
    let after: string | undefined;
    do {
      const page = await this.options.incidents.incidentPage(after, PAGE);
      for (const incident of page.items) {
        if ((await this.options.reassess(incident)) === 'assessed') changed++;
      }
      after = page.next;
    } while (after !== undefined && !this.#closed);
    return changed;
  }

  /** Stops scheduling, and waits for a run under way. */
  async close(): Promise<void> {
    this.#closed = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    await this.#running;
  }

  async #run(): Promise<void> {
    try {
      await this.runNow();
    } catch (error) {
      this.options.onError?.(error);
    }
  }
}
