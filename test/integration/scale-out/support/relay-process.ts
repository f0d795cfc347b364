/**
 * One outbox relay as a process of its own, for the test that kills a relay holding a claim:
 * it relays the events of one collection until it is killed. Configured by the environment.
 */
import { jetstream } from '@nats-io/jetstream';
import { connectMongo, connectNats, createLogger, OutboxRelay, type OutboxDoc } from '@beacon/platform';

const need = (name: string): string => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is required`);
  return value;
};

const logger = createLogger({ name: 'relay-process', level: 'info' });
const mongo = await connectMongo({ url: need('MONGO_URL'), appName: 'relay-process' });
const nc = await connectNats({ servers: need('NATS_URL'), name: 'relay-process', logger });
const relay = new OutboxRelay({
  sources: { docs: mongo.db(need('RELAY_DB')).collection<OutboxDoc>(need('RELAY_COLLECTION')) },
  js: jetstream(nc, { timeout: 60_000 }),
  subjectRoot: need('RELAY_SUBJECT_ROOT'),
  logger,
  relayId: need('RELAY_ID'),
  leaseMs: Number(need('RELAY_LEASE_MS')),
  sweepMs: 50,
});
relay.start();
logger.info('relay started');
