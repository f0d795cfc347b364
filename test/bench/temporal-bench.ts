/**
 * What the Temporal benches share: a fresh dev server of their own under `.infra/bench/<name>`
 * (or the user's, via TEMPORAL_ADDRESS), a client and a worker connection to it, the SDK's
 * runtime logging errors only, and a garbage collection to call before reading memory.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime } from '@temporalio/worker';
import { infraDir, startStack, type RunningStack } from '@beacon/testkit/infra';

setFlagsFromString('--expose-gc');
/** A full collection, so that a reading of the process's memory is of what is still held. */
export const gc = (globalThis.gc ?? runInNewContext('gc')) as () => void;
Runtime.install({ logger: new DefaultLogger('ERROR') });

export interface TemporalBench {
  readonly stack: RunningStack;
  readonly client: Client;
  readonly native: NativeConnection;
  readonly namespace: string;
  close(): Promise<void>;
}

export async function temporalBench(name: string): Promise<TemporalBench> {
  const dir = join(infraDir, 'bench', name);
  rmSync(dir, { recursive: true, force: true });
  const stack = await startStack({ dir, ports: 'free', ui: false, fresh: true, env: process.env });
  const { temporalAddress: address, temporalNamespace: namespace } = stack.endpoints;
  const connection = await Connection.connect({ address });
  const native = await NativeConnection.connect({ address });
  return {
    stack,
    client: new Client({ connection, namespace }),
    native,
    namespace,
    close: async () => {
      await native.close();
      await connection.close();
      await stack.stop();
    },
  };
}
