/**
 * Fault: the worker (and the starter with its change signaller) is killed with SIGKILL in the
 * middle of a merge — the merged incident's response has handed over and the survivor's is
 * taking it over, stuck in the registry read of its take-over — and started again. The merge
 * still ends with one survivor: the take-over is retried where it stopped, nothing is doubled.
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect } from 'vitest';
import { ManagedProcess, repoRoot, test, waitFor } from '@beacon/testkit';
import { responseWorkflowId, statusQuery } from '../src/index.js';
import type { incidentResponse } from '../src/workflows/index.js';
import { expectOneSurvivor, twoResponses } from './support/merge-scenario.js';
import { startResponseStack } from './support/stack.js';

describe('the worker killed mid-merge', () => {
  test('restarts into one survivor response, with nothing doubled', async ({
    infra,
    names,
    nats,
    temporal,
  }) => {
    const s = await startResponseStack(infra, names, { roles: 'acks,api' });
    // Its own directory: a test run starting meanwhile may clear the shared test directory.
    const dir = mkdtempSync(join(tmpdir(), 'beacon-merge-fault-'));
    const armFile = join(dir, 'merge-armed');
    const worker = new ManagedProcess({
      name: 'workflows-worker',
      command: process.execPath,
      args: [
        '--conditions=source',
        '--import',
        'tsx',
        join(repoRoot, 'workflows/test/fixtures/worker-process.ts'),
      ],
      logFile: join(dir, 'worker.log'),
      env: { ...s.workflowsEnv, WORKFLOWS_ROLES: 'worker,starter', STALL_REGISTRY_WHEN_FILE: armFile },
    });
    try {
      worker.start();
      const two = await twoResponses(s, temporal, nats);

      // From now on the first registry read stalls: the survivor's take-over is the next one.
      writeFileSync(armFile, '');
      await two.merge();
      await waitFor(
        async () => {
          if (!existsSync(`${armFile}.stalled`))
            throw new Error(`no take-over yet; ${worker.exitReason ?? 'worker running'}`);
        },
        { what: "the survivor's take-over under way", timeoutMs: 30_000, intervalMs: 100 },
      );
      await worker.kill();
      // Killed mid-merge: the survivor's response has the hand-over and has not finished it.
      const survivor = temporal.workflow.getHandle<typeof incidentResponse>(
        responseWorkflowId(two.survivorId),
      );
      expect((await survivor.describe()).status.name).toBe('RUNNING');

      // A new process picks it up: the stalled registry read times out and is retried.
      worker.start();
      await expectOneSurvivor(s, temporal, nats, two);
      expect((await survivor.query(statusQuery)).runs).toBe(1);
    } finally {
      await worker.stop();
      await s.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 240_000);
});
