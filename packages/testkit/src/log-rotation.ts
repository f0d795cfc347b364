import {
  appendFileSync,
  closeSync,
  copyFileSync,
  existsSync,
  openSync,
  readSync,
  renameSync,
  statSync,
  truncateSync,
} from 'node:fs';

/** How big a process's log may grow before it is rotated, and how many old ones are kept. */
export interface LogRotation {
  readonly maxBytes: number;
  readonly keep: number;
}

/** 20 MB, three old files: at most 80 MB per process. */
export const DEFAULT_LOG_ROTATION: LogRotation = { maxBytes: 20 * 1024 * 1024, keep: 3 };

/**
 * Rotates `file` once it is larger than `maxBytes`: `file.1` becomes `file.2` and so on, the
 * oldest beyond `keep` is dropped, and the current text is copied to `file.1` before `file` is
 * truncated. Copy-then-truncate, because the process keeps writing through the descriptor it
 * was started with (opened for appending, so it goes on at the new end) and cannot be asked to
 * reopen. What is written during the copy is copied after it, until the file stops growing;
 * only a line written in the instant between that last look and the truncation can be lost.
 * Returns whether it rotated.
 */
export function rotateIfLarge(file: string, rotation: LogRotation = DEFAULT_LOG_ROTATION): boolean {
  if (!existsSync(file) || statSync(file).size <= rotation.maxBytes) return false;
  for (let i = rotation.keep - 1; i >= 1; i--) {
    if (existsSync(`${file}.${i}`)) renameSync(`${file}.${i}`, `${file}.${i + 1}`);
  }
  copyFileSync(file, `${file}.1`);
  for (let copied = statSync(`${file}.1`).size; ;) {
    const size = statSync(file).size;
    if (size <= copied) break;
    appendFileSync(`${file}.1`, readRange(file, copied, size));
    copied = size;
  }
  truncateSync(file, 0);
  return true;
}

function readRange(file: string, from: number, to: number): Buffer {
  const buffer = Buffer.alloc(to - from);
  const fd = openSync(file, 'r');
  try {
    readSync(fd, buffer, 0, buffer.length, from);
  } finally {
    closeSync(fd);
  }
  return buffer;
}
