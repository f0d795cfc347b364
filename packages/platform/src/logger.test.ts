import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from './logger.js';

function capture() {
  const lines: Record<string, unknown>[] = [];
  // Collects each line as pino writes it, synchronously, so assertions need no waiting.
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString('utf8').split('\n').filter(Boolean)) {
        lines.push(JSON.parse(line) as Record<string, unknown>);
      }
      done();
    },
  });
  return { stream, lines };
}

describe('createLogger', () => {
  it('censors secrets and personal data at any of the first three levels', () => {
    const { stream, lines } = capture();
    const logger = createLogger({ name: 'test', destination: stream });
    logger.info(
      {
        token: 'tok-1',
        req: { headers: { authorization: 'Bearer abc' } },
        victim: { email: 'a@example.org', caseRef: 'VC-1' },
      },
      'hello',
    );
    const serialised = JSON.stringify(lines);
    expect(serialised).not.toContain('tok-1');
    expect(serialised).not.toContain('Bearer abc');
    expect(serialised).not.toContain('a@example.org');
    expect(lines[0]).toMatchObject({
      name: 'test',
      level: 'info',
      msg: 'hello',
      token: '[redacted]',
      victim: { email: '[redacted]', caseRef: 'VC-1' },
    });
  });

  it('keeps lines below the configured level out', () => {
    const { stream, lines } = capture();
    const logger = createLogger({ name: 'test', level: 'warn', destination: stream });
    logger.info('quiet');
    logger.warn('loud');
    expect(lines.map((l) => l.msg)).toEqual(['loud']);
  });
});
