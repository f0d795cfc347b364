import { describe, expect, it } from 'vitest';
import { UsageError } from './io.js';
import { canonicalJson, correlationGroups, idempotencyKey, parseReports } from './report-file.js';

const report = (title: string, observables: { type: string; value: string }[] = []) => ({
  title,
  tlp: 'TLP_GREEN',
  observables,
});

describe('idempotencyKey', () => {
  it('depends on the content only, not on key order or formatting', () => {
    const a = { title: 'x', nested: { b: 1, a: [2, { d: 4, c: 3 }] } };
    const b = JSON.parse('{ "nested": { "a": [2, { "c": 3, "d": 4 }], "b": 1 }, "title": "x" }') as unknown;
    expect(canonicalJson(a)).toBe('{"nested":{"a":[2,{"c":3,"d":4}],"b":1},"title":"x"}');
    expect(idempotencyKey(a)).toBe(idempotencyKey(b));
  });

  it('changes with any change to the content, and fits the gateway pattern', () => {
    const keys = [
      report('a'),
      report('b'),
      report('a', [{ type: 'ipv4', value: '192.0.2.1' }]),
      { ...report('a'), tlp: 'TLP_AMBER' },
      [report('a')],
    ].map(idempotencyKey);
    expect(new Set(keys).size).toBe(keys.length);
    for (const key of keys) expect(key).toMatch(/^cli-[0-9a-f]{32}$/);
    expect(keys[0]).toMatch(/^[A-Za-z0-9._:-]{8,128}$/);
  });

  it('is stable across runs (a re-run must present the same keys)', () => {
    // sha256('{"a":1}') = 015abd7f5cc57a2dd94b7590f04ad8084273905ee33ec5cebeae62276a97f862
    expect(idempotencyKey({ a: 1 })).toBe('cli-015abd7f5cc57a2dd94b7590f04ad808');
  });
});

describe('parseReports', () => {
  it('reads one JSON object', () => {
    expect(parseReports(JSON.stringify(report('one'), null, 2), 'r.json')).toEqual([
      { where: 'report', position: 0, body: report('one') },
    ]);
  });

  it('reads a JSON array, failing non-objects alone with their index', () => {
    const items = parseReports(JSON.stringify([report('a'), 7, report('b')]), 'r.json');
    expect(items).toEqual([
      { where: 'index 0', position: 0, body: report('a') },
      { where: 'index 1', position: 1, error: 'not a JSON object' },
      { where: 'index 2', position: 2, body: report('b') },
    ]);
  });

  it('reads JSON Lines with blank lines, CRLF and a BOM, failing a bad line alone', () => {
    const [a, b] = [JSON.stringify(report('a')), JSON.stringify(report('b'))];
    const text = `\uFEFF${a}\r\n\n{"title": oops}\n${b}\n`;
    const items = parseReports(text, 'r.jsonl');
    expect(items.map((i) => [i.where, i.body?.['title'] ?? i.error?.slice(0, 9)])).toEqual([
      ['line 1', 'a'],
      ['line 3', 'not JSON:'],
      ['line 4', 'b'],
    ]);
  });

  it('recognises JSON Lines by content whatever the file is called', () => {
    const text = [report('a'), report('b')].map((r) => JSON.stringify(r)).join('\n');
    expect(parseReports(text, 'reports.txt').map((i) => i.where)).toEqual(['line 1', 'line 2']);
    // A single line is also one JSON value: it is the one-object form.
    expect(parseReports(JSON.stringify(report('a')), 'x').map((i) => i.where)).toEqual(['report']);
  });

  it('refuses a file that is neither, or holds nothing', () => {
    expect(() => parseReports('{"title": "a",\n oops', 'r.json')).toThrow(UsageError);
    expect(() => parseReports('{"title": "a",\n oops', 'r.json')).toThrow(/^r\.json is not JSON: /);
    expect(() => parseReports('[]', 'r.json')).toThrow(/holds no reports/);
    expect(() => parseReports('\n\n', 'r.jsonl')).toThrow(/holds no reports/);
  });
});

describe('correlationGroups', () => {
  it('keeps reports sharing an observable, as the server normalises it, in one ordered group', () => {
    const items = parseReports(
      JSON.stringify([
        report('0', [{ type: 'domain', value: 'Evil.Example.' }]),
        report('1', [{ type: 'ipv4', value: '192.0.2.1' }]),
        report('2'),
        report('3', [
          { type: 'ipv4', value: ' 192.0.2.1' },
          { type: 'url', value: 'https://x.example/a' },
        ]),
        report('4', [{ type: 'domain', value: 'evil.example' }]),
        report('5', [{ type: 'url', value: 'https://x.example/a' }]),
        report('6', [{ type: 'ipv4', value: '300.1.1.1' }]),
        report('7', [{ type: 'url', value: 'hxxps://x[.]example/a' }]),
        report('8', [{ type: 'domain', value: 'evil[.]example' }]),
      ]),
    );
    expect(correlationGroups(items)).toEqual([[0, 4, 8], [1, 3, 5, 7], [2], [6]]);
  });

  it('joins groups that a later report bridges', () => {
    const items = parseReports(
      JSON.stringify([
        report('0', [{ type: 'md5', value: 'a'.repeat(32) }]),
        report('1', [{ type: 'md5', value: 'b'.repeat(32) }]),
        report('2', [
          { type: 'md5', value: 'B'.repeat(32) },
          { type: 'md5', value: 'a'.repeat(32) },
        ]),
      ]),
    );
    expect(correlationGroups(items)).toEqual([[0, 1, 2]]);
  });
});
