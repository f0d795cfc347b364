import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  assertBreakerConfig,
  type BreakerConfig,
  type BreakerState,
  CLOSED,
  DEFAULT_BREAKER,
  type Outcome,
  recordOutcome,
  requestPermission,
} from './circuit-breaker.js';

const T0 = Date.parse('2026-03-01T10:00:00Z');
const at = (seconds: number) => new Date(T0 + seconds * 1000);
const config: BreakerConfig = {
  consecutiveFailures: 3,
  failureRatio: 0.5,
  minimumCalls: 4,
  windowSize: 4,
  windowMs: 60_000,
  coolDownMs: 30_000,
  trialTimeoutMs: 10_000,
};

const record = (outcomes: Outcome[], start: BreakerState = CLOSED, from = 0): BreakerState =>
  outcomes.reduce((state, outcome, i) => recordOutcome(state, config, outcome, at(from + i)), start);

describe('circuit breaker', () => {
  it('opens after K failures in a row; a success in between resets the count', () => {
    expect(record(['failure', 'failure']).kind).toBe('closed');
    expect(record(['failure', 'failure', 'failure'])).toEqual({
      kind: 'open',
      openedAt: at(2).getTime(),
      reason: 'consecutive-failures',
    });
    const noRatio = { ...config, failureRatio: 1 };
    const states = (['failure', 'failure', 'success', 'failure', 'failure'] as const).reduce<BreakerState[]>(
      (acc, outcome, i) => [...acc, recordOutcome(acc.at(-1) ?? CLOSED, noRatio, outcome, at(i))],
      [],
    );
    expect(states.map((s) => s.kind)).toEqual(['closed', 'closed', 'closed', 'closed', 'closed']);
    expect(recordOutcome(states.at(-1)!, noRatio, 'failure', at(5))).toMatchObject({
      kind: 'open',
      reason: 'consecutive-failures',
    });
  });

  it('opens when failures reach the ratio over enough recent calls', () => {
    expect(record(['success', 'failure', 'success', 'failure'])).toMatchObject({
      kind: 'open',
      reason: 'failure-ratio',
    });
    expect(record(['failure', 'success', 'failure']).kind).toBe('closed'); // too few calls to judge
    // Only the last windowSize (4) outcomes count: the early failure has dropped out.
    expect(record(['failure', 'success', 'success', 'success', 'failure']).kind).toBe('closed');
    expect(record(['failure', 'success', 'success', 'failure', 'failure']).kind).toBe('open');
  });

  it('forgets outcomes older than the window', () => {
    const state = record(['failure', 'success', 'failure'], CLOSED, 0);
    // Two minutes later the old outcomes no longer count: 1 failure of 1 call is below minimumCalls.
    expect(recordOutcome(state, config, 'failure', at(120))).toEqual({
      kind: 'closed',
      consecutiveFailures: 2,
      recent: [{ at: at(120).getTime(), failed: true }],
    });
  });

  it('refuses requests while open, then lets exactly one trial through after the cool-down', () => {
    const open = record(['failure', 'failure', 'failure']); // opened at 2 s
    expect(requestPermission(open, config, at(10))).toEqual({ allowed: false, state: open, retryAt: at(32) });
    const trial = requestPermission(open, config, at(32));
    expect(trial).toEqual({
      allowed: true,
      state: { kind: 'half-open', trialStartedAt: at(32).getTime() },
      trial: true,
    });
    expect(requestPermission(trial.state, config, at(33))).toEqual({
      allowed: false,
      state: trial.state,
      retryAt: at(42),
    });
    expect(recordOutcome(trial.state, config, 'success', at(34))).toEqual(CLOSED);
    expect(recordOutcome(trial.state, config, 'failure', at(34))).toEqual({
      kind: 'open',
      openedAt: at(34).getTime(),
      reason: 'trial-failed',
    });
  });

  it('gives up on a trial that never reports and lets the next request try', () => {
    const halfOpen: BreakerState = { kind: 'half-open', trialStartedAt: at(0).getTime() };
    expect(requestPermission(halfOpen, config, at(9.999)).allowed).toBe(false);
    expect(requestPermission(halfOpen, config, at(10))).toEqual({
      allowed: true,
      state: { kind: 'half-open', trialStartedAt: at(10).getTime() },
      trial: true,
    });
  });

  it('lets requests through while closed, and ignores late outcomes while open', () => {
    expect(requestPermission(CLOSED, config, at(0))).toEqual({ allowed: true, state: CLOSED, trial: false });
    const open = record(['failure', 'failure', 'failure']);
    expect(recordOutcome(open, config, 'success', at(5))).toBe(open);
  });

  it('keeps its state a plain value that survives JSON', () => {
    const state = record(['failure', 'success']);
    expect(JSON.parse(JSON.stringify(state))).toEqual(state);
  });

  it('refuses unusable configuration', () => {
    expect(() => assertBreakerConfig(DEFAULT_BREAKER)).not.toThrow();
    for (const bad of [
      { consecutiveFailures: 0 },
      { failureRatio: 0 },
      { failureRatio: 1.5 },
      { minimumCalls: 5 },
      { windowSize: 0 },
      { coolDownMs: 0 },
      { trialTimeoutMs: Number.NaN },
    ]) {
      expect(() => assertBreakerConfig({ ...config, ...bad }), JSON.stringify(bad)).toThrow(RangeError);
    }
  });

  it('holds its promises under any sequence of requests and outcomes', () => {
    const step = fc.record({
      op: fc.constantFrom('request', 'success', 'failure'),
      gapMs: fc.integer({ min: 0, max: 20_000 }),
    });
    fc.assert(
      fc.property(fc.array(step, { maxLength: 80 }), (steps) => {
        let state: BreakerState = CLOSED;
        let now = T0;
        let failuresInRow = 0;
        for (const { op, gapMs } of steps) {
          now += gapMs;
          const before: BreakerState = state;
          if (op === 'request') {
            const permission = requestPermission(before, config, new Date(now));
            state = permission.state;
            if (before.kind === 'open' && now < before.openedAt + config.coolDownMs)
              expect(permission.allowed).toBe(false);
            if (
              before.kind === 'half-open' &&
              before.trialStartedAt !== undefined &&
              now < before.trialStartedAt + config.trialTimeoutMs
            ) {
              expect(permission.allowed).toBe(false);
            }
            if (permission.allowed && before.kind !== 'closed') expect(state.kind).toBe('half-open');
            if (!permission.allowed) expect(permission.retryAt.getTime()).toBeGreaterThan(now);
          } else {
            state = recordOutcome(before, config, op, new Date(now));
            if (before.kind === 'closed') {
              failuresInRow = op === 'failure' ? failuresInRow + 1 : 0;
              if (failuresInRow >= config.consecutiveFailures) expect(state.kind).toBe('open');
              if (op === 'success') expect(state.kind).toBe('closed');
            }
            if (before.kind === 'half-open') expect(state.kind).toBe(op === 'success' ? 'closed' : 'open');
            if (state.kind !== 'closed') failuresInRow = 0;
          }
          if (state.kind === 'closed') expect(state.recent.length).toBeLessThanOrEqual(config.windowSize);
        }
      }),
    );
  });
});
