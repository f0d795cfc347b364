import { describe, expect, it } from 'vitest';
import openapi from '../gen/openapi.json' with { type: 'json' };
import { RequestSchemas } from './schemas.js';

describe('request schemas', () => {
  const schemas = new RequestSchemas(openapi);
  const timeline = 'beacon.response.v1.GetTimelineRequest';

  it('name the repeated fields a query string may give once', () => {
    expect([...schemas.repeatedFields(timeline)].sort()).toEqual(['kinds']);
    expect(schemas.repeatedFields('beacon.response.v1.GetResponseRequest').size).toBe(0);
  });

  it('take a list of one for a repeated field, and refuse a bare string', () => {
    expect(schemas.violations(timeline, { incidentId: 'inc_1', kinds: ['engagement'] })).toEqual([]);
    expect(schemas.violations(timeline, { incidentId: 'inc_1', kinds: 'engagement' })).toEqual([
      { field: 'kinds', description: 'has the wrong type or value', reason: 'WRONG_TYPE' },
    ]);
  });
});
