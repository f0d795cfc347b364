import { describe, expect, it } from 'vitest';
import { atOrPast } from './lifecycle.js';

describe('atOrPast', () => {
  it('is true where the incident is, and beyond it; false before', () => {
    expect(atOrPast('triage', 'triage')).toBe(true);
    expect(atOrPast('contained', 'active')).toBe(true);
    expect(atOrPast('reported', 'triage')).toBe(false);
    expect(atOrPast('active', 'closed')).toBe(false);
  });
});
