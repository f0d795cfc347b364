import { Binary, BSON } from 'mongodb';
import { describe, expect, it } from 'vitest';
import { outboxEntry, readOutboxEntry, type OutboxEntryDoc } from './outbox-entry.js';

const CREATED = new Date('2026-11-29T10:15:30.123Z');
const data = Uint8Array.from({ length: 300 }, (_, i) => (i * 7) % 256);

/** What the store gives back: the entry written into a document and read out again. */
const stored = (entry: Binary) => BSON.deserialize(BSON.serialize({ e: entry }))['e'] as Binary;

describe('outbox entries', () => {
  it('come back from the store exactly as written, trace context included', () => {
    const trace = {
      traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
      tracestate: 'beacon=ü1',
    };
    const event = {
      id: 'evt_01J9ÄÖ',
      seq: 4_200_000_001,
      subject: 'incident.opened',
      data,
      createdAt: CREATED,
    };
    expect(readOutboxEntry(stored(outboxEntry(event, trace)))).toEqual({
      ...event,
      data: Buffer.from(data),
      trace,
    });
    const plain = readOutboxEntry(stored(outboxEntry(event, undefined)));
    expect(plain).toEqual({ ...event, data: Buffer.from(data) });
    expect(plain).not.toHaveProperty('trace');
  });

  it('are read in the form earlier releases wrote (a sub-document)', () => {
    const doc: OutboxEntryDoc = {
      id: 'evt_1',
      seq: 100,
      subject: 'victims.case-opened',
      data: new Binary(data),
      createdAt: CREATED,
      trace: { traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01' },
    };
    const read = readOutboxEntry(doc);
    expect({ ...read, data: Buffer.from(read.data) }).toEqual({ ...doc, data: Buffer.from(data) });
  });

  it('refuse a packed entry that is cut short or of an unknown format', () => {
    const bytes = Buffer.from(
      outboxEntry({ id: 'evt_1', seq: 1, subject: 's', data, createdAt: CREATED }, undefined).buffer,
    );
    expect(() => readOutboxEntry(new Binary(bytes.subarray(0, 19)))).toThrow(/malformed/);
    expect(() => readOutboxEntry(new Binary(Buffer.concat([Buffer.from([9]), bytes.subarray(1)])))).toThrow(
      /unknown format/,
    );
  });
});
