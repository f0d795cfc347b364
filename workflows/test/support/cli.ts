import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run } from '@beacon/cli';
import { createOperatorSetup } from '@beacon/platform';
import { testNames, type Endpoints } from '@beacon/testkit';
import { startResponseStack, type ResponseStack } from './stack.js';

export interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** The whole stack behind the gateway, and `beacon` run in-process against it. */
export interface CliStack {
  readonly stack: ResponseStack;
  /** The working directory of every `beacon` run, removed at the end. */
  readonly dir: string;
  /**
   * Runs `beacon …` with BEACON_URL and the dev issuer file of this stack; `token` (or
   * `env.BEACON_TOKEN`) is the caller.
   */
  beacon(
    argv: readonly string[],
    options?: { token?: string; env?: Record<string, string> },
  ): Promise<CliResult>;
  /** A token minted by `beacon token`, as a person would get one; checked to succeed. */
  token(roles: string, options?: { agency?: string; clearance?: string }): Promise<string>;
  /** Writes a file in the working directory and returns its name there. */
  file(name: string, text: string): Promise<string>;
  stop(): Promise<void>;
}

/**
 * Starts the response stack (intake, impact, notify, victims, the gateway and the workflows on
 * the run's real servers), with notify able to issue NATS feed credentials, and a directory
 * holding its development issuer as `make up` leaves one.
 */
export async function startCliStack(infra: Endpoints): Promise<CliStack> {
  const dir = await mkdtemp(join(tmpdir(), 'beacon-cli-e2e-'));
  const { signer } = await createOperatorSetup();
  const signerFile = join(dir, 'account-signer.json');
  await writeFile(signerFile, JSON.stringify(signer), { mode: 0o600 });
  let stack: ResponseStack;
  try {
    stack = await startResponseStack(infra, testNames(), {
      notifyEnv: { NATS_ACCOUNT_SIGNER_FILE: signerFile },
    });
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
  const { issuer, audience, privateJwk } = stack.issuer;
  const issuerFile = join(dir, 'dev-issuer.json');
  await writeFile(issuerFile, JSON.stringify({ issuer, audience, privateJwk }));
  const baseEnv = { BEACON_URL: stack.http, BEACON_DEV_ISSUER_FILE: issuerFile, USER: 'tester' };

  const beacon: CliStack['beacon'] = async (argv, options = {}) => {
    let stdout = '';
    let stderr = '';
    const code = await run(argv, {
      stdout: { write: (s: string) => (stdout += s) },
      stderr: { write: (s: string) => (stderr += s) },
      env: { ...baseEnv, ...(options.token ? { BEACON_TOKEN: options.token } : {}), ...options.env },
      isTTY: false,
      cwd: dir,
    });
    return { code, stdout, stderr };
  };
  return {
    stack,
    dir,
    beacon,
    async token(roles, options = {}) {
      const minted = await beacon([
        'token',
        '--roles',
        roles,
        '--clearance',
        options.clearance ?? 'RED',
        ...(options.agency ? ['--agency', options.agency] : []),
      ]);
      if (minted.code !== 0) throw new Error(`beacon token failed: ${minted.stderr}`);
      return minted.stdout.trim();
    },
    async file(name, text) {
      await writeFile(join(dir, name), text);
      return name;
    },
    async stop() {
      await stack.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
