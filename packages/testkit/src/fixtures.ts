import { jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import { Client, Connection } from '@temporalio/client';
import type { Db, MongoClient } from 'mongodb';
import { inject, test as base } from 'vitest';
import { connectMongo, connectNats } from '@beacon/platform';
import { testNames, type TestNames } from './names.js';
import type { Endpoints } from './stack.js';

/**
 * `test` with Beacon's fixtures: the run's real servers (`infra`), one connection per test
 * worker (`nats`, `mongoClient`, `temporalConnection`), and per test isolated `names`, a
 * `db` of its own, `jsm` (streams named with `names.stream` are deleted after the test) and a
 * Temporal client on the Beacon namespace. Everything is closed or removed afterwards.
 */
export const test = base
  .extend('infra', { scope: 'worker' }, async (): Promise<Endpoints> => inject('infra'))
  .extend('nats', { scope: 'worker' }, async ({ infra }, { onCleanup }): Promise<NatsConnection> => {
    const nc = await connectNats({ servers: infra.natsUrl, name: 'beacon-test' });
    onCleanup(() => nc.close());
    return nc;
  })
  .extend('mongoClient', { scope: 'worker' }, async ({ infra }, { onCleanup }): Promise<MongoClient> => {
    const client = await connectMongo({ url: infra.mongoUrl, appName: 'beacon-test' });
    onCleanup(() => client.close());
    return client;
  })
  .extend(
    'temporalConnection',
    { scope: 'worker' },
    async ({ infra }, { onCleanup }): Promise<Connection> => {
      const connection = await Connection.connect({ address: infra.temporalAddress });
      onCleanup(() => connection.close());
      return connection;
    },
  )
  .extend('names', async (): Promise<TestNames> => testNames())
  .extend('jsm', async ({ nats, names }, { onCleanup }): Promise<JetStreamManager> => {
    const jsm = await jetstreamManager(nats);
    onCleanup(async () => {
      const prefix = names.stream('');
      for await (const name of jsm.streams.names()) {
        if (name.startsWith(prefix)) await jsm.streams.delete(name);
      }
    });
    return jsm;
  })
  .extend('db', async ({ mongoClient, names }, { onCleanup }): Promise<Db> => {
    const db = mongoClient.db(names.database());
    onCleanup(async () => {
      await db.dropDatabase();
    });
    return db;
  })
  .extend(
    'temporal',
    async ({ temporalConnection, infra }): Promise<Client> =>
      new Client({ connection: temporalConnection, namespace: infra.temporalNamespace }),
  );
