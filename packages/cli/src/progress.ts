import type { Output } from './io.js';

/** Counts finished items and shows how far a batch has got. */
export interface Progress {
  /** One more item finished; `failed` when it did not succeed. */
  tick(failed: boolean): void;
  /** The batch is over: a terminal gets its line back. */
  finish(): void;
}

export interface ProgressOptions {
  readonly total: number;
  readonly out: Output;
  /** A terminal gets one bar redrawn in place; logs and pipes get a line every tenth. */
  readonly tty: boolean;
  readonly label?: string;
  /** Milliseconds between redraws of the bar at most; the last one is always drawn. */
  readonly redrawMs?: number;
  readonly now?: () => number;
}

const BAR_WIDTH = 30;

/** The bar as drawn: `[██████░░░░] 7/12  58%  1 failed`. */
export function renderBar(done: number, total: number, failed: number): string {
  const ratio = total === 0 ? 1 : done / total;
  const filled = Math.round(ratio * BAR_WIDTH);
  const bar = '█'.repeat(filled) + '░'.repeat(BAR_WIDTH - filled);
  const percent = `${Math.floor(ratio * 100)}%`.padStart(4);
  return `[${bar}] ${done}/${total} ${percent}${failed > 0 ? `  ${failed} failed` : ''}`;
}

/** Progress on `out`, drawn as a bar on a terminal or as a line per tenth of the batch otherwise. */
export function createProgress(options: ProgressOptions): Progress {
  const { total, out, tty, label = 'reports', redrawMs = 50, now = Date.now } = options;
  let done = 0;
  let failed = 0;
  let lastDraw = -Infinity;
  let lastTenth = 0;
  return {
    tick(itemFailed) {
      done++;
      if (itemFailed) failed++;
      if (tty) {
        // A batch of thousands would otherwise spend its time repainting the terminal.
        if (done < total && now() - lastDraw < redrawMs) return;
        lastDraw = now();
        out.write(`\r\x1b[2K${label} ${renderBar(done, total, failed)}`);
        return;
      }
      const tenth = Math.floor((done * 10) / total);
      if (tenth <= lastTenth) return;
      lastTenth = tenth;
      const percent = Math.floor((done * 100) / total);
      out.write(`${label}: ${done}/${total} (${percent}%)${failed > 0 ? `, ${failed} failed` : ''}\n`);
    },
    finish() {
      if (tty && done > 0) out.write('\n');
    },
  };
}
