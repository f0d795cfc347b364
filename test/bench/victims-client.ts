/**
 * The benchmark's bulk-import client, in a worker thread: a real client runs elsewhere, and
 * here it would otherwise share the service's event loop, charging the service for encoding
 * requests it never has to encode. Generates the campaign, sends it to ImportCases in windowed
 * batches, and posts back how long that took.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { credentials, Metadata, type ServiceError } from '@grpc/grpc-js';
import { victimsV1 } from '@beacon/proto';
import { threadCpuSeconds } from './measure.js';
import { campaign, windowed } from './victims-campaign.js';

export interface ClientTask {
  readonly address: string;
  readonly token: string;
  readonly reports: number;
  readonly seed: number;
  readonly now: number;
  readonly batch: number;
  readonly window: number;
}

export interface ClientDone {
  readonly seconds: number;
  readonly accepted: number;
  readonly refused: readonly victimsV1.RowError[];
  /** This thread's CPU (user + system) from its start: generating, encoding and sending. */
  readonly cpuSeconds: number;
}

const task = workerData as ClientTask;
const rows = campaign(task.reports, task.seed, task.now);
const client = new victimsV1.VictimsServiceClient(task.address, credentials.createInsecure(), {
  'grpc.max_send_message_length': 16 * 1024 * 1024,
});
const metadata = new Metadata();
metadata.set('authorization', `Bearer ${task.token}`);
let accepted = 0;
const refused: victimsV1.RowError[] = [];
const started = performance.now();
await windowed(rows.length, task.batch, task.window, async (offset) => {
  const response = await new Promise<victimsV1.ImportCasesResponse>((resolve, reject) =>
    client.importCases(
      { rows: rows.slice(offset, offset + task.batch), firstRow: offset + 1 },
      metadata,
      { deadline: new Date(Date.now() + 300_000) },
      (error: ServiceError | null, res?: victimsV1.ImportCasesResponse) =>
        error ? reject(error) : resolve(res!),
    ),
  );
  accepted += response.cases.length;
  refused.push(...response.errors);
});
const seconds = (performance.now() - started) / 1000;
client.close();
const done: ClientDone = { seconds, accepted, refused: refused.slice(0, 3), cpuSeconds: threadCpuSeconds() };
parentPort!.postMessage(done);
