import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { credentials } from '@grpc/grpc-js';
import { describe, expect, it } from 'vitest';
import { healthV1 } from '@beacon/proto';
import { ServingStatus } from '@beacon/platform';

const fixture = fileURLToPath(new URL('./fixtures/serve-until-signal.ts', import.meta.url));
// tsx is resolved from the workspace root.
const repoRoot = fileURLToPath(new URL('../../..', import.meta.url));

describe('a Beacon process on SIGTERM', () => {
  it('reports NOT_SERVING to health watchers, ends their streams, stops and exits 0', async () => {
    const child = spawn(process.execPath, ['--conditions=source', '--import', 'tsx', fixture], {
      cwd: repoRoot,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const lines: Record<string, unknown>[] = [];
    const listening = new Promise<number>((resolve) => {
      createInterface({ input: child.stdout }).on('line', (line) => {
        const entry = JSON.parse(line) as Record<string, unknown>;
        lines.push(entry);
        if (entry['msg'] === 'grpc server listening') resolve(entry['port'] as number);
      });
    });
    const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
    const port = await listening;

    const health = new healthV1.HealthClient(`127.0.0.1:${port}`, credentials.createInsecure());
    const statuses: number[] = [];
    const watch = health.watch({ service: '' });
    const drained = new Promise<void>((resolve) => {
      watch.on('data', ({ status }: healthV1.HealthCheckResponse) => {
        statuses.push(status);
        if (status === ServingStatus.SERVING) child.kill('SIGTERM');
        if (status === ServingStatus.NOT_SERVING) resolve();
      });
      watch.on('error', () => resolve());
    });

    await drained;
    const started = performance.now();
    expect(statuses).toEqual([ServingStatus.SERVING, ServingStatus.NOT_SERVING]);
    expect(await exited).toEqual([0, null]);
    // An open Watch stream must not hold shutdown until the grace period (10 s) runs out.
    expect(performance.now() - started).toBeLessThan(5_000);
    expect(lines.map((l) => l['msg'])).toContain('shutting down');
    health.close();
  });
});
