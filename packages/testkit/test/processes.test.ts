import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { components, freePort, ManagedProcess, startDedicated, waitFor } from '@beacon/testkit';

describe('server processes for fault tests', () => {
  it('pauses a server so it stops answering, and resumes it', async () => {
    const nats = await startDedicated('nats');
    try {
      nats.process.pause();
      await expect(components.nats.ready(nats.url)).rejects.toThrow();
      nats.process.resume();
      await nats.ready(10_000);
    } finally {
      await nats.stop();
    }
  });

  it('restarts a killed Mongo-wire server with its data', async () => {
    const mongo = await startDedicated('mongo');
    const { MongoClient } = await import('mongodb');
    const client = new MongoClient(mongo.url, { serverSelectionTimeoutMS: 10_000 });
    try {
      const reports = client.db('fault').collection<{ _id: string; title: string }>('reports');
      await reports.insertOne({ _id: 'r1', title: 'kept' });
      await mongo.process.kill();
      expect(mongo.process.exitReason).toContain('SIGKILL');
      await mongo.restart();
      expect(await reports.findOne({})).toEqual({ _id: 'r1', title: 'kept' });
    } finally {
      await client.close();
      await mongo.stop();
    }
  });

  it('names the component and its log file when a server dies at start', async () => {
    // Hold the port the server wants, so it exits straight away.
    const busy: Server = createServer();
    const port = await freePort();
    await new Promise<void>((resolve) => busy.listen(port, '127.0.0.1', resolve));
    try {
      const dir = mkdtempSync(join(tmpdir(), 'beacon-nats-'));
      onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
      const spec = components.nats.process(dir, { main: port, extra: [await freePort()] }, { ui: false });
      const proc = new ManagedProcess(spec);
      proc.start();
      const failure = waitFor(() => components.nats.ready(components.nats.url(port)), {
        what: `nats (log: ${spec.logFile})`,
        timeoutMs: 30_000,
        abortIf: () => proc.exitReason,
      });
      await expect(failure).rejects.toThrow(spec.logFile);
      await expect(failure).rejects.toThrow(/nats exited \(code 1\)/);
      await expect(failure).rejects.toThrow(/address already in use/);
    } finally {
      busy.close();
    }
  });
});
