import { Writable } from 'node:stream';
import { createLogger, type Logger } from '@beacon/platform';

/** A logged line as the tests read it. */
export interface RecordedLine {
  readonly msg?: string;
  readonly eventId?: string;
  readonly incidentId?: string;
  readonly level?: number;
}

/** A logger at debug level whose lines a test reads: how it sees which instance did what. */
export function recordingLogger(name: string): { logger: Logger; lines: RecordedLine[] } {
  const lines: RecordedLine[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString('utf8').split('\n')) {
        if (line.trim()) lines.push(JSON.parse(line) as RecordedLine);
      }
      done();
    },
  });
  return { logger: createLogger({ name, level: 'debug', destination: sink }), lines };
}
