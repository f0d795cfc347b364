import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { ConfigError } from '@beacon/platform';
import { loadConfig } from './config.js';

const KEK = randomBytes(32).toString('base64');
const SEARCH = 'a-search-key-of-at-least-32-characters';
const base = {
  MONGO_URL: 'mongodb://127.0.0.1:27017',
  NATS_URL: 'nats://127.0.0.1:4222',
  AUTH_ISSUER: 'https://issuer.example',
  AUTH_JWKS_URL: 'https://issuer.example/jwks',
};
const problems = (env: Record<string, string>) => {
  try {
    loadConfig({ ...base, ...env });
  } catch (error) {
    if (error instanceof ConfigError) return JSON.stringify(error.issues);
    throw error;
  }
  return 'loaded';
};

describe('victims configuration of its secrets', () => {
  it('reads each secret inline or from a file, and never both', () => {
    const dir = mkdtempSync(join(tmpdir(), 'victims-config-'));
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    writeFileSync(join(dir, 'keks'), `k1:${KEK}\n`);
    writeFileSync(join(dir, 'search'), `${SEARCH}\n`);
    const fromFiles = loadConfig({
      ...base,
      VICTIMS_KEKS_FILE: join(dir, 'keks'),
      VICTIMS_SEARCH_KEY_FILE: join(dir, 'search'),
    });
    expect(fromFiles.keys.keks.map((k) => k.id)).toEqual(['k1']);
    expect(fromFiles.keys.searchKey).toBe(SEARCH);
    expect(
      loadConfig({ ...base, VICTIMS_KEKS: `k1:${KEK}`, VICTIMS_SEARCH_KEY: SEARCH }).keys.searchKey,
    ).toBe(SEARCH);
    expect(
      problems({
        VICTIMS_KEKS: `k1:${KEK}`,
        VICTIMS_KEKS_FILE: join(dir, 'keks'),
        VICTIMS_SEARCH_KEY: SEARCH,
      }),
    ).toContain('VICTIMS_KEKS / VICTIMS_KEKS_FILE');
    expect(problems({ VICTIMS_KEKS: `k1:${KEK}` })).toContain('VICTIMS_SEARCH_KEY / VICTIMS_SEARCH_KEY_FILE');
  });

  it('names the variable at fault and never echoes a secret', () => {
    const short = 'too-short-secret';
    const inline = problems({ VICTIMS_KEKS: `k1:${KEK}`, VICTIMS_SEARCH_KEY: short });
    expect(inline).toContain('"VICTIMS_SEARCH_KEY"');
    expect(inline).not.toContain(short);
    const missing = problems({ VICTIMS_KEKS_FILE: '/nonexistent/keks', VICTIMS_SEARCH_KEY: SEARCH });
    expect(missing).toContain('VICTIMS_KEKS_FILE');
    expect(missing).toContain('ENOENT');
    expect(problems({ VICTIMS_KEKS: `k1:${KEK}`, VICTIMS_SEARCH_KEY: SEARCH })).toBe('loaded');
    expect(problems({ VICTIMS_KEKS: 'k1:bm90LWEta2V5', VICTIMS_SEARCH_KEY: SEARCH })).not.toContain(
      'bm90LWEta2V5',
    );
  });
});

describe('victims configuration of disclosure control', () => {
  const keys = { VICTIMS_KEKS: `k1:${KEK}`, VICTIMS_SEARCH_KEY: SEARCH };

  it('suppresses counts under 5 unless told a higher threshold', () => {
    expect(loadConfig({ ...base, ...keys }).stats.suppressionThreshold).toBe(5);
    expect(
      loadConfig({ ...base, ...keys, VICTIMS_STATS_SUPPRESSION_THRESHOLD: '10' }).stats.suppressionThreshold,
    ).toBe(10);
  });

  it('refuses a threshold below 5 with the variable and the reason, rather than raising it silently', () => {
    for (const low of ['4', '1', '0', '-3']) {
      const refused = problems({ ...keys, VICTIMS_STATS_SUPPRESSION_THRESHOLD: low });
      expect(refused).toContain('VICTIMS_STATS_SUPPRESSION_THRESHOLD');
      expect(refused).toContain('must be at least 5');
    }
    expect(problems({ ...keys, VICTIMS_STATS_SUPPRESSION_THRESHOLD: '5.5' })).toContain(
      'VICTIMS_STATS_SUPPRESSION_THRESHOLD',
    );
  });
});
