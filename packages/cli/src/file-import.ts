/**
 * What `assets import` and `victims import` share: a file streamed line by line, sent in
 * batches whose refusals come back by place in the batch and are reported by file line, a
 * progress bar, and the summary's list of refused lines.
 */
import { createReadStream } from 'node:fs';
import { access } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { jsonText, type Context } from './context.js';
import type { GatewayClient } from './http.js';
import { UsageError } from './io.js';
import { createProgress, type Progress } from './progress.js';

/** A row the import refused, by file line and field. */
export interface ImportFailure {
  readonly line: number;
  readonly field: string;
  readonly description: string;
}

/** The refusals of an import route: each by its row's place in the batch, from 1. */
export interface RowErrors {
  readonly errors?: readonly { row?: number; field?: string; description?: string }[];
}

/** A row as sent, with the file line it came from. */
export interface LineRow<Row> {
  readonly line: number;
  readonly row: Row;
}

/** The file line of the batch's `row`th row (from 1), as an import route names it. */
export function lineOf(sent: readonly LineRow<unknown>[], row: number | undefined): number {
  return sent[(row ?? 1) - 1]?.line ?? 0;
}

/**
 * Rows collected into batches of `size`, each batch sent by `post` once full (and the rest by
 * `flush`); every row ticks `progress` once, as failed when it was refused.
 */
export class RowBatches<Row, Answer extends RowErrors> {
  readonly failures: ImportFailure[] = [];
  #batch: LineRow<Row>[] = [];

  constructor(
    private readonly size: number,
    private readonly post: (rows: readonly Row[]) => Promise<Answer>,
    private readonly onAnswer: (answer: Answer, sent: readonly LineRow<Row>[]) => void,
    private readonly progress?: Progress,
  ) {}

  async add(line: number, row: Row): Promise<void> {
    this.#batch.push({ line, row });
    if (this.#batch.length >= this.size) await this.flush();
  }

  /** A line refused before sending (it could not be read as a row). */
  refuse(failure: ImportFailure): void {
    this.failures.push(failure);
    this.progress?.tick(true);
  }

  async flush(): Promise<void> {
    if (this.#batch.length === 0) return;
    const sent = this.#batch;
    this.#batch = [];
    const answer = await this.post(sent.map((b) => b.row));
    const refused = new Set<number>();
    for (const e of answer.errors ?? []) {
      const line = lineOf(sent, e.row);
      refused.add(line);
      this.failures.push({ line, field: e.field ?? '', description: e.description ?? '' });
    }
    this.onAnswer(answer, sent);
    for (const { line } of sent) this.progress?.tick(refused.has(line));
  }

  /** The failures by line, once every batch is sent. */
  sortedFailures(): ImportFailure[] {
    return this.failures.sort((a, b) => a.line - b.line);
  }
}

/** Lines of a file, streamed. */
export function fileLines(path: string): AsyncIterable<string> {
  return createInterface({ input: createReadStream(path, { encoding: 'utf8' }), crlfDelay: Infinity });
}

/** The non-blank lines of a file, counted first so the progress bar knows its end. */
export async function countLines(path: string): Promise<number> {
  let count = 0;
  for await (const line of fileLines(path)) if (line.trim() !== '') count++;
  return count;
}

/**
 * Runs an import of `--file`: checks it is readable before anything is sent, counts its `rows`
 * for a progress bar labelled `label` (none for a single row), and hands `send` the client, the
 * path and the bar.
 */
export async function importFile<O>(
  context: Context,
  label: string,
  rows: (path: string) => Promise<number>,
  send: (client: GatewayClient, path: string, progress: Progress | undefined) => Promise<O>,
): Promise<{ readonly file: string; readonly outcome: O }> {
  const file = context.string('file');
  if (!file) throw new UsageError('--file is required');
  const path = context.path(file);
  await access(path).catch((error: unknown) => {
    throw new UsageError(`cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
  });
  const client = context.client();
  const { io } = context;
  const total = await rows(path);
  const progress =
    total > 1 ? createProgress({ total, out: io.stderr, tty: io.isTTY === true, label }) : undefined;
  try {
    return { file, outcome: await send(client, path, progress) };
  } finally {
    progress?.finish();
  }
}

/**
 * Prints an import's summary line and each refused line as `file:line: field: description`
 * (or the outcome as JSON); exit code 1 when any line was refused.
 */
export function writeImportOutcome(
  context: Context,
  file: string,
  outcome: { readonly failures: readonly ImportFailure[] },
  summary: (refusedLines: number) => string,
): number {
  const { stdout } = context.io;
  if (context.json) stdout.write(jsonText(outcome));
  else {
    stdout.write(`${summary(new Set(outcome.failures.map((f) => f.line)).size)}\n`);
    for (const f of outcome.failures) stdout.write(`  ${file}:${f.line}: ${f.field}: ${f.description}\n`);
  }
  return outcome.failures.length > 0 ? 1 : 0;
}
