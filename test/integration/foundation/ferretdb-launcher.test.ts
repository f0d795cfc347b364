import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { MongoClient } from 'mongodb';
import { describe, expect, it, onTestFinished } from 'vitest';
import { components, freePort, installedBinary, ManagedProcess, waitFor } from '@beacon/testkit';

/** The launcher itself, whatever store the rest of the run uses. */
async function startLauncher(extraArgs: string[] = []) {
  const data = mkdtempSync(join(tmpdir(), 'beacon-ferretdb-'));
  // After the test's own `finally` has stopped the launcher.
  onTestFinished(() => rmSync(data, { recursive: true, force: true }));
  const port = await freePort();
  const proc = new ManagedProcess({
    name: 'beacon-ferretdb',
    command: installedBinary('beacon-ferretdb'),
    args: ['-listen', `127.0.0.1:${port}`, '-data', data, ...extraArgs],
    logFile: join(data, 'ferretdb.log'),
  });
  proc.start();
  const url = components.mongo.url(port);
  await waitFor(() => components.mongo.ready(url), {
    what: 'launcher',
    timeoutMs: 30_000,
    abortIf: () => proc.exitReason,
  });
  return { data, url, proc };
}

describe('the FerretDB launcher', () => {
  it('gives every collection an index that lookups by _id actually use', async () => {
    const { data, url, proc } = await startLauncher();
    const client = new MongoClient(url);
    try {
      await client.db('app').collection<{ _id: string }>('reports').insertOne({ _id: 'r1' });
      const file = join(
        data,
        readdirSync(data).find((f) => f.endsWith('.sqlite') && f.startsWith('app'))!,
      );
      // The SQL FerretDB 1.24 runs for {_id: …}; its own _id index is on another expression.
      const plan = await waitFor(
        async () => {
          const db = new DatabaseSync(file, { readOnly: true });
          try {
            const table = db
              .prepare("SELECT tbl_name FROM sqlite_master WHERE type = 'table' AND tbl_name LIKE 'reports%'")
              .get() as { tbl_name: string };
            const rows = db
              .prepare(
                `EXPLAIN QUERY PLAN SELECT * FROM "${table.tbl_name}" WHERE _ferretdb_sjson->'$._id' = ?`,
              )
              .all('"r1"') as { detail: string }[];
            const detail = rows.map((r) => r.detail).join('; ');
            if (!/USING INDEX/.test(detail)) throw new Error(`plan: ${detail}`);
            return detail;
          } finally {
            db.close();
          }
        },
        { what: 'an index on the _id lookup expression', timeoutMs: 15_000, intervalMs: 200 },
      );
      expect(plan).toMatch(/SEARCH .* USING INDEX .*_beacon_id/);
    } finally {
      await client.close();
      await proc.stop();
    }
  });

  it('with -debug, counts commands by the shape of their filter and serves CPU profiles', async () => {
    const debug = `127.0.0.1:${await freePort()}`;
    const { url, proc } = await startLauncher(['-debug', debug]);
    const client = new MongoClient(url);
    try {
      const reports = client.db('app').collection<{ _id: string; n: number }>('reports');
      await reports.insertOne({ _id: 'r1', n: 1 });
      await reports.findOne({ _id: 'r1' });
      await reports.findOne({ _id: 'r1', n: { $gt: 0, $lt: 5 } });
      await reports.updateOne({ _id: 'r1' }, { $inc: { n: 1 } }, { upsert: true });
      const counts = (await (await fetch(`http://${debug}/debug/commands`)).json()) as Record<
        string,
        { count: number; ms: number }
      >;
      expect(counts).toMatchObject({
        'insert app.reports': { count: 1 },
        'find app.reports {_id}': { count: 1 },
        'find app.reports {_id, n:$gt,$lt}': { count: 1 },
        'update app.reports {_id} upsert': { count: 1 },
      });
      const index = await fetch(`http://${debug}/debug/pprof/`);
      expect(index.status).toBe(200);
      expect(await index.text()).toContain('profile');
    } finally {
      await client.close();
      await proc.stop();
    }
  });

  // FerretDB 1.24 would hold a SQLite connection per statement until the command ended and stall
  // the database for good at about a hundred; the launcher refuses such a command instead.
  it('answers an update command of more statements than FerretDB can carry with an error, and stays up', async () => {
    const { url, proc } = await startLauncher();
    // One connection: a refusal that left it out of step would show in the commands after it.
    const client = new MongoClient(url, { maxPoolSize: 1 });
    try {
      const docs = client.db('app').collection<{ _id: number; n: number }>('docs');
      await docs.insertMany(Array.from({ length: 120 }, (_, i) => ({ _id: i, n: 0 })));
      const update = (ids: number[]) =>
        docs.bulkWrite(
          ids.map((_id) => ({ updateOne: { filter: { _id }, update: { $inc: { n: 1 } } } })),
          { ordered: false },
        );
      const all = Array.from({ length: 120 }, (_, i) => i);

      await expect(update(all)).rejects.toThrow(/has 120: send at most 50 per command/);
      expect(await docs.countDocuments({ n: 0 })).toBe(120);
      // The same updates in commands of 50 go through, on the same connection.
      for (let i = 0; i < all.length; i += 50) await update(all.slice(i, i + 50));
      expect(await docs.countDocuments({ n: 1 })).toBe(120);
    } finally {
      await client.close();
      await proc.stop();
    }
  });
});
