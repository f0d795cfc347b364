import { Metadata, status } from '@grpc/grpc-js';
import { describe, expect, it } from 'vitest';
import { FilterError } from '@beacon/domain';
import { GrpcError, MAX_REPORTED_VIOLATIONS } from './grpc-handler.js';
import { RequestValidator } from './request-validator.js';

const reasons = (v: RequestValidator) => v.violations.map((x) => [x.field, x.reason]);

function refusal(v: RequestValidator): GrpcError {
  try {
    v.check();
  } catch (error) {
    if (error instanceof GrpcError) return error;
    throw error;
  }
  throw new Error('the request was accepted');
}

describe('free text', () => {
  it('is trimmed, and a one-line text with a line break, a tab or a line separator is refused naming the character', () => {
    const v = new RequestValidator();
    expect(v.text('title', '  Grid outage \n', { maxLength: 200 })).toBe('Grid outage');
    v.text('title', 'Outage\r\nBcc: x@example.org', { maxLength: 200 });
    v.text('name', 'Outage\tat plant', { maxLength: 200 });
    v.text('subject', 'Outage\u2028at plant', { maxLength: 200 });
    expect(reasons(v)).toEqual([
      ['title', 'CONTROL_CHARACTERS'],
      ['name', 'CONTROL_CHARACTERS'],
      ['subject', 'CONTROL_CHARACTERS'],
    ]);
    expect(v.violations[0]!.description).toBe('contains a control character (U+000D at position 6)');
  });

  it('keeps line breaks and tabs in multiline text, but not a NUL or a bidirectional override', () => {
    const v = new RequestValidator();
    const text = 'Line one.\r\n\tLine two.';
    expect(v.text('description', text, { maxLength: 1_000, multiline: true })).toBe(text);
    expect(v.violations).toEqual([]);
    v.text('description', 'line one\n\u0000hidden', { maxLength: 1_000, multiline: true });
    v.text('reason', 'evil\u202egnp.exe', { maxLength: 1_000, multiline: true });
    expect(reasons(v)).toEqual([
      ['description', 'CONTROL_CHARACTERS'],
      ['reason', 'CONTROL_CHARACTERS'],
    ]);
  });

  it('accepts exactly the limit after trimming, refuses one more naming the limit, and refuses blank required text', () => {
    const v = new RequestValidator();
    v.text('title', ` ${'x'.repeat(200)} `, { maxLength: 200, required: true });
    expect(v.violations).toEqual([]);
    v.text('title', 'x'.repeat(201), { maxLength: 200, required: true });
    v.text('name', ' \t ', { maxLength: 200, required: true });
    v.text('notes', '', { maxLength: 200 });
    expect(v.violations).toEqual([
      { field: 'title', description: 'is longer than 200 characters', reason: 'TOO_LONG' },
      { field: 'name', description: 'is required', reason: 'REQUIRED' },
    ]);
  });
});

describe('refusing a request', () => {
  it('names every violation at once as INVALID_ARGUMENT, and hands back the values when there is none', () => {
    const ok = new RequestValidator();
    expect(ok.complete({ title: ok.text('title', 'Outage', { maxLength: 200, required: true }) })).toEqual({
      title: 'Outage',
    });

    const v = new RequestValidator();
    v.text('title', '', { maxLength: 200, required: true });
    v.id('case_id', '{"$ne":null}', { pattern: /^vc_[0-9a-f]{32}$/, what: 'a case id' });
    const error = refusal(v);
    expect(error.code).toBe(status.INVALID_ARGUMENT);
    expect(error.violations).toEqual([
      { field: 'title', description: 'is required', reason: 'REQUIRED' },
      { field: 'case_id', description: 'is not a case id', reason: 'INVALID_ID' },
    ]);
    expect(() => v.complete({ title: undefined })).toThrow(GrpcError);
  });

  it('reports the first few of thousands of violations, and how many more there were', () => {
    const v = new RequestValidator();
    v.ids(
      'incident_ids',
      Array.from({ length: 5_000 }, (_, i) => `bad ${i}`),
      { pattern: /^inc_[a-z0-9]{1,64}$/, what: 'an incident id', maxItems: 10_000 },
    );
    expect(v.violations).toHaveLength(5_000);
    const error = refusal(v);
    expect(error.violations).toHaveLength(MAX_REPORTED_VIOLATIONS);
    expect(error.violations[0]).toEqual({
      field: 'incident_ids[0]',
      description: 'is not an incident id',
      reason: 'INVALID_ID',
    });
    expect(error.message).toMatch(/; and 4980 more$/);
  });
});

describe('lists, pages and versions', () => {
  it('refuses a list over its limit as one violation, names each bad id by index, and drops repeats', () => {
    const rule = { pattern: /^rep_[a-z0-9]{1,64}$/, what: 'a report id', maxItems: 3 };
    const v = new RequestValidator();
    expect(v.ids('report_ids', ['rep_a', 'rep_b', 'rep_a'], rule)).toEqual(['rep_a', 'rep_b']);
    expect(v.ids('report_ids', ['rep_a', 'rep_b', 'rep_c', 'rep_d'], rule)).toEqual([]);
    v.ids('report_ids', ['rep_a', 'REP_B'], rule);
    expect(v.violations).toEqual([
      { field: 'report_ids', description: 'at most 3', reason: 'TOO_MANY' },
      { field: 'report_ids[1]', description: 'is not a report id', reason: 'INVALID_ID' },
    ]);
  });

  it('reads page size 0 as the default, accepts the maximum and refuses beyond it naming the range', () => {
    const v = new RequestValidator();
    const page = { max: 500, fallback: 100 };
    expect(v.pageSize(0, page)).toBe(100);
    expect(v.pageSize(500, page)).toBe(500);
    expect(v.violations).toEqual([]);
    for (const size of [501, -1, 2.5]) {
      const bad = new RequestValidator();
      bad.pageSize(size, page);
      expect(bad.violations, String(size)).toEqual([
        { field: 'page_size', description: 'must be 0 to 500', reason: 'OUT_OF_RANGE' },
      ]);
    }
  });

  it('refuses a negative expected version and accepts 0 (none) or a version read', () => {
    const v = new RequestValidator();
    v.expectedVersion('expected_version', 0);
    v.expectedVersion('expected_version', 7);
    v.expectedVersion('merged_expected_version', -1);
    expect(v.violations).toEqual([
      { field: 'merged_expected_version', description: 'must not be negative', reason: 'OUT_OF_RANGE' },
    ]);
  });
});

describe('small languages', () => {
  it('turns a parse error into a violation naming the position, and lets any other error through', () => {
    const v = new RequestValidator();
    const parse = (text: string) => {
      if (text === 'status = ') throw new FilterError(10, 'a value', 'the end');
      if (text === 'bug') throw new TypeError('a bug of ours, not the client’s');
      return text.length;
    };
    expect(v.parsed('filter', 'status = open', parse, 'INVALID_FILTER')).toBe(13);
    expect(v.parsed('filter', 'status = ', parse, 'INVALID_FILTER')).toBeUndefined();
    expect(v.violations).toEqual([
      {
        field: 'filter',
        description: 'position 10: expected a value, found the end',
        reason: 'INVALID_FILTER',
      },
    ]);
    expect(() => v.parsed('filter', 'bug', parse, 'INVALID_FILTER')).toThrow(TypeError);
  });
});

describe('idempotency keys', () => {
  const body = new TextEncoder().encode('the same request');
  const sent = (key: string) => {
    const metadata = new Metadata();
    metadata.set('idempotency-key', key);
    return metadata;
  };

  it('is nothing when no key is sent', () => {
    const v = new RequestValidator();
    expect(v.idempotencyOf(new Metadata(), body)).toBeUndefined();
    expect(v.violations).toEqual([]);
  });

  it('accepts 8 to 128 letters, digits and . _ : -, and refuses anything else naming the rule', () => {
    for (const key of ['abcd-123', 'hotline-2026-03-000042', 'a.b_c:d-e', 'k'.repeat(128)]) {
      const v = new RequestValidator();
      expect(v.idempotencyOf(sent(key), body)?.key, key).toBe(key);
      expect(v.violations).toEqual([]);
    }
    for (const key of ['', 'short', 'k'.repeat(129), 'has spaces in it', 'key=value-0001', 'a/b/c/d/e']) {
      const v = new RequestValidator();
      expect(v.idempotencyOf(sent(key), body), key).toBeUndefined();
      expect(v.violations, key).toEqual([
        {
          field: 'idempotency-key',
          description: 'must be 8 to 128 letters, digits or . _ : -',
          reason: 'INVALID_IDEMPOTENCY_KEY',
        },
      ]);
    }
  });

  it('gives the same key and body the same hash, another body another, and keeps hashes already stored valid', () => {
    const v = new RequestValidator();
    const first = v.idempotencyOf(sent('retry-0001'), body);
    const again = v.idempotencyOf(sent('retry-0001'), new TextEncoder().encode('the same request'));
    const other = v.idempotencyOf(sent('retry-0001'), new TextEncoder().encode('another request'));
    expect(again).toEqual(first);
    expect(other!.requestHash).not.toBe(first!.requestHash);
    // SHA-256 of "abc", hex: the digest earlier releases stored with each idempotency record.
    expect(v.idempotencyOf(sent('retry-0001'), new TextEncoder().encode('abc'))!.requestHash).toBe(
      'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad',
    );
  });
});

describe('an audit checkpoint', () => {
  it('reads a kept chain end back as the chain has it, and names each bad entry by its index', () => {
    const id = '1733616000000.0123456789abcdef.0000000042';
    const hash = 'a'.repeat(64);
    const v = new RequestValidator();
    expect(v.checkpoint('checkpoint', [{ recordId: id, hash }])).toEqual([{ id, hash }]);
    expect(v.violations).toEqual([]);
    v.checkpoint('checkpoint', [
      { recordId: id, hash },
      { recordId: '{"$ne":1}', hash: 'A'.repeat(64) },
    ]);
    expect(reasons(v)).toEqual([
      ['checkpoint[1].record_id', 'INVALID'],
      ['checkpoint[1].hash', 'INVALID'],
    ]);
  });
});
