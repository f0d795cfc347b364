import { describe, expect, it } from 'vitest';
import { parsePrometheusText } from './scrape.js';

describe('parsePrometheusText', () => {
  it('reads names, escaped label values and special values, and sums matching series', () => {
    const scrape = parsePrometheusText(
      [
        '# HELP reqs_total Requests.',
        '# TYPE reqs_total counter',
        'reqs_total{route="/v1/a",status="200"} 3',
        'reqs_total{route="/v1/a",status="500"} 2',
        'reqs_total{route="say \\"hi\\"\\\\"} 1',
        'up 1 1700000000000',
        'lat_bucket{le="+Inf"} +Inf',
        '',
      ].join('\n'),
    );
    expect(scrape.value('reqs_total', { route: '/v1/a' })).toBe(5);
    expect(scrape.value('reqs_total', { route: '/v1/a', status: '500' })).toBe(2);
    expect(scrape.series('reqs_total', { route: 'say "hi"\\' })).toHaveLength(1);
    expect(scrape.value('up')).toBe(1);
    expect(scrape.value('lat_bucket')).toBe(Infinity);
    expect(scrape.value('absent_total')).toBe(0);
    expect(scrape.declares('reqs_total')).toBe(true);
    expect(scrape.declares('up')).toBe(false);
  });

  it('refuses a line that is not a sample', () => {
    expect(() => parsePrometheusText('what is this')).toThrow(/not a Prometheus sample line/);
  });
});
