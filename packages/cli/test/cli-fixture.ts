import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'vitest';
// Test helpers are not part of the gateway's exports, so they are reached by path.
import { startTestStack, type TestStack } from '@beacon/gateway/testing';
import { run } from '../src/index.js';

export interface Result {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export interface Cli {
  readonly stack: TestStack;
  /** A scratch directory, removed after the test. */
  readonly dir: string;
  /** Runs `beacon …` in-process against the stack, with BEACON_URL and the issuer file set. */
  beacon(argv: string[], options?: { env?: Record<string, string>; isTTY?: boolean }): Promise<Result>;
  /** `beacon token` for a coordinator, checked to succeed. */
  coordinatorToken(): Promise<string>;
  /** Writes a file in the scratch directory and returns its path. */
  file(name: string, text: string): Promise<string>;
}

/**
 * What the `cli` fixture of the CLI's tests gives: a test stack behind the gateway, a dev
 * issuer file, and `beacon` run in-process against them; all stopped and removed on cleanup.
 */
export async function createCli(
  infra: Parameters<typeof startTestStack>[0],
  names: Parameters<typeof startTestStack>[1],
  mongoClient: { db(name: string): { dropDatabase(): Promise<unknown> } },
  onCleanup: (cleanup: () => Promise<void>) => void,
): Promise<Cli> {
  const stack = await startTestStack(infra, names);
  const dir = await mkdtemp(join(tmpdir(), 'beacon-cli-'));
  onCleanup(async () => {
    await stack.stop();
    await mongoClient.db(stack.dbName).dropDatabase();
    await rm(dir, { recursive: true, force: true });
  });
  const { issuer, audience, privateJwk } = stack.issuer;
  const issuerFile = join(dir, 'dev-issuer.json');
  await writeFile(issuerFile, JSON.stringify({ issuer, audience, privateJwk }));
  const baseEnv = { BEACON_URL: stack.http, BEACON_DEV_ISSUER_FILE: issuerFile, USER: 'tester' };

  const beacon: Cli['beacon'] = async (argv, options = {}) => {
    let stdout = '';
    let stderr = '';
    const code = await run(argv, {
      stdout: { write: (s: string) => (stdout += s) },
      stderr: { write: (s: string) => (stderr += s) },
      env: { ...baseEnv, ...options.env },
      isTTY: options.isTTY ?? false,
    });
    return { code, stdout, stderr };
  };
  return {
    stack,
    dir,
    beacon,
    async coordinatorToken() {
      const minted = await beacon(['token', '--roles', 'coordinator', '--subject', 'cc-ops']);
      expect(minted).toMatchObject({ code: 0, stderr: '' });
      return minted.stdout.trim();
    },
    async file(name, text) {
      const path = join(dir, name);
      await writeFile(path, text);
      return path;
    },
  };
}

/** The body of `beacon incidents open --file`: an AMBER ransomware incident with one SHA-256. */
export function incidentJson(sha256: string): Record<string, unknown> {
  return {
    title: 'Ransomware at a water utility',
    tlp: 'TLP_AMBER',
    classification: { rsitClass: 'malicious-code', rsitType: 'infected-system' },
    sectors: ['water-and-wastewater'],
    jurisdictions: ['DE'],
    observables: [{ type: 'sha256', value: sha256 }],
    severityInputs: {
      functionalImpact: 'significant-critical',
      observedActivity: 'effect',
      location: 'critical-systems',
      actor: 'organised-crime',
      informationImpact: 'suspected',
      recoverability: 'extended',
      crossSectorDependency: 'medium',
      potentialImpact: 'high',
    },
    awareAt: new Date(Date.now() - 3_600_000).toISOString(),
  };
}
