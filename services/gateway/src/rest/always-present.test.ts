import { describe, expect, it } from 'vitest';
import { AlwaysPresent } from './always-present.js';

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const openapi = {
  components: {
    schemas: {
      'p.Severity': {
        type: 'object',
        required: ['score', 'level'],
        properties: {
          score: { type: 'integer', default: 0 },
          level: { type: 'integer', default: 0 },
          levelName: { type: 'string' },
        },
      },
      'p.Incident': {
        type: 'object',
        properties: { id: { type: 'string' }, severity: ref('p.Severity'), version: { type: 'integer' } },
      },
      'p.ListResponse': {
        type: 'object',
        properties: {
          incidents: { type: 'array', items: ref('p.Incident') },
          byId: { type: 'object', additionalProperties: ref('p.Incident') },
          nextPageToken: { type: 'string' },
        },
      },
      'p.Other': { type: 'object', properties: { count: { type: 'integer' } } },
    },
  },
};

describe('fields documented as always present', () => {
  const filler = new AlwaysPresent(openapi);

  it('are written at their zero value wherever the message appears, and nothing else is', () => {
    const json = {
      incidents: [{ id: 'a', severity: { levelName: 'baseline' } }, { id: 'b' }],
      byId: { c: { id: 'c', severity: { score: 40, level: 2, levelName: 'medium' } } },
    };
    expect(filler.fill('p.ListResponse', json)).toEqual({
      incidents: [{ id: 'a', severity: { score: 0, level: 0, levelName: 'baseline' } }, { id: 'b' }],
      byId: { c: { id: 'c', severity: { score: 40, level: 2, levelName: 'medium' } } },
    });
  });

  it('leave messages without such fields as the mapping wrote them', () => {
    expect(filler.fill('p.Other', {})).toEqual({});
    expect(filler.fill('p.Unknown', { x: 1 })).toEqual({ x: 1 });
  });
});
