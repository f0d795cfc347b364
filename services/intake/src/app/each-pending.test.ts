import { describe, expect, it } from 'vitest';
import { eachPending } from './each-pending.js';

describe('eachPending', () => {
  it('tries every item though one fails, then names how many of how many failed', async () => {
    const tried: number[] = [];
    const run = eachPending([1, 2, 3], 'reports could not be linked', async (n) => {
      tried.push(n);
      if (n === 2) throw new Error('store down');
    });
    const error = await run.catch((e: unknown) => e);
    expect(tried).toEqual([1, 2, 3]);
    expect(error).toBeInstanceOf(AggregateError);
    expect((error as AggregateError).message).toBe('1 of 3 reports could not be linked');
    expect((error as AggregateError).errors.map((e: Error) => e.message)).toEqual(['store down']);
  });

  it('returns how many there were when none failed', async () => {
    expect(await eachPending(['a', 'b'], 'merges could not be finished', async () => undefined)).toBe(2);
  });
});
