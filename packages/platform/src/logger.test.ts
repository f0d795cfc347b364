import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from './logger.js';
import { MAX_LOG_DEPTH } from './redact.js';

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
  it('censors secrets and personal data at the top of a line', () => {
    const { stream, lines } = capture();
    const logger = createLogger({ name: 'test', destination: stream });
    logger.info(
      {
        token: 'tok-1',
        req: { headers: { authorization: 'Bearer abc' } },
        victim: { email: 'a@example.org', caseRef: 'VC-1', needs: 2 },
      },
      'hello',
    );
    const serialised = JSON.stringify(lines);
    for (const secret of ['tok-1', 'Bearer abc', 'a@example.org', 'VC-1'])
      expect(serialised).not.toContain(secret);
    expect(lines[0]).toMatchObject({
      name: 'test',
      level: 'info',
      msg: 'hello',
      token: '[redacted]',
      // A case reference opens the case's status to whoever holds it: a secret too.
      victim: { email: '[redacted]', caseRef: '[redacted]', needs: 2 },
    });
  });

  it('censors at any depth, in arrays, in any spelling of the key, in child bindings and in errors', () => {
    const { stream, lines } = capture();
    const logger = createLogger({ name: 'test', destination: stream })
      .child({ creds: 'CREDS-FILE' })
      .child({ nested: { nkeySeed: 'GRAND-SEED' } });
    const deep = {
      a: {
        b: { c: { d: { e: { f: [{ signingSeed: 'SEED-6', reference: 'VC-REF-6', kept: 'visible' }] } } } },
      },
    };
    const error = Object.assign(new Error('upstream refused'), {
      request: { headers: { Authorization: 'Bearer in-error' }, body: { contact_email: 'x@example.org' } },
    });
    logger.warn({ deep, list: [{ jwt: 'JWT-1' }, { Password: 'pw-1' }], err: error }, 'deep');
    const serialised = JSON.stringify(lines);
    for (const secret of [
      'CREDS-FILE',
      'GRAND-SEED',
      'SEED-6',
      'VC-REF-6',
      'JWT-1',
      'pw-1',
      'Bearer in-error',
      'x@example.org',
    ])
      expect(serialised).not.toContain(secret);
    expect(lines[0]).toMatchObject({
      creds: '[redacted]',
      deep: { a: { b: { c: { d: { e: { f: [{ signingSeed: '[redacted]', kept: 'visible' }] } } } } } },
      err: { type: 'Error', message: 'upstream refused' },
    });
    // The object logged is the caller's, untouched.
    expect(deep.a.b.c.d.e.f[0]!.signingSeed).toBe('SEED-6');
  });

  it('censors JWTs and nkey seeds by their form, under any key and in the message', () => {
    const { stream, lines } = capture();
    const logger = createLogger({ name: 'test', destination: stream });
    const jwt = 'eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJhIn0.c2lnbmF0dXJl';
    const seed = `SU${'A'.repeat(56)}`;
    logger.info({ note: `header was Bearer ${jwt}`, blob: seed }, `token ${jwt} refused`);
    const serialised = JSON.stringify(lines);
    expect(serialised).not.toContain(jwt);
    expect(serialised).not.toContain(seed);
    expect(lines[0]).toMatchObject({ note: 'header was Bearer [redacted]', msg: 'token [redacted] refused' });
  });

  it('logs a driver’s bulk write error by code, message, first index and count, never the documents', () => {
    const { stream, lines } = capture();
    const logger = createLogger({ name: 'test', destination: stream });
    class MongoBulkWriteError extends Error {
      override name = 'MongoBulkWriteError';
      code = 11000;
      writeErrors = [
        { index: 3, code: 11000, errmsg: 'dup', op: { _id: 'vc_1', sealed: 'CASE-DOCUMENT-3' } },
        { index: 7, code: 11000, errmsg: 'dup', op: { _id: 'vc_2', sealed: 'CASE-DOCUMENT-7' } },
      ];
      result = { insertedIds: { 0: 'vc_0' }, documents: ['CASE-DOCUMENT-0'] };
    }
    logger.warn({ err: new MongoBulkWriteError('E11000 duplicate key error'), rows: 2 }, 'partial import');
    expect(JSON.stringify(lines)).not.toContain('CASE-DOCUMENT');
    expect(lines[0]!.err).toEqual({
      type: 'MongoBulkWriteError',
      message: 'E11000 duplicate key error',
      code: 11000,
      index: 3,
      count: 2,
      stack: expect.any(String) as unknown,
    });
  });

  it('cuts off what is nested deeper than the cap, and survives cycles', () => {
    const { stream, lines } = capture();
    const logger = createLogger({ name: 'test', destination: stream });
    let nested: Record<string, unknown> = { token: 'too-deep-token' };
    for (let i = 0; i < MAX_LOG_DEPTH + 2; i++) nested = { n: nested };
    const cycle: Record<string, unknown> = { secret: 's-1' };
    cycle.self = cycle;
    logger.info({ nested, cycle }, 'odd shapes');
    const serialised = JSON.stringify(lines);
    expect(serialised).not.toContain('too-deep-token');
    expect(serialised).not.toContain('s-1');
    expect(serialised).toContain('[too deep]');
  });

  it('writes each line with its own fields only, not those of lines before it', () => {
    const { stream, lines } = capture();
    const logger = createLogger({ name: 'test', destination: stream });
    logger.info({ first: 1 }, 'one');
    logger.info({ second: 2 }, 'two');
    expect(lines[1]).not.toHaveProperty('first');
    expect(lines[1]).toMatchObject({ second: 2, msg: 'two' });
  });

  it('keeps lines below the configured level out', () => {
    const { stream, lines } = capture();
    const logger = createLogger({ name: 'test', level: 'warn', destination: stream });
    logger.info('quiet');
    logger.warn('loud');
    expect(lines.map((l) => l.msg)).toEqual(['loud']);
  });
});
