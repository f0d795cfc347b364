import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { AckPolicy, DeliverPolicy, jetstream, jetstreamManager } from '@nats-io/jetstream';
import { credsAuthenticator, type NatsConnection } from '@nats-io/nats-core';
import { connect } from '@nats-io/transport-node';
import { expect } from 'vitest';
import type { Jurisdiction } from '@beacon/domain';
import { createLogger, encodeEnvelope, NatsConnectError } from '@beacon/platform';
import { eventsV1, intakeV1 } from '@beacon/proto';
import {
  startDedicated,
  test as base,
  type DedicatedServer,
  type Endpoints,
  type TestNames,
  waitFor,
} from '@beacon/testkit';
import {
  agencyConsumerName,
  agencyFeedFilter,
  agencyInboxPrefix,
  createOperatorSetup,
  FEED_SUBJECT_ROOT,
  FEEDS_STREAM,
  mintAgencyUser,
  mintServiceUser,
  renderOperatorConfig,
  type OperatorSetup,
} from '@beacon/platform';
import { loadConfig, startNotify } from '../src/index.js';

/**
 * Notify against a NATS server in operator mode, as a production deployment with agencies' feed
 * credentials runs it: the server admits only users whose JWT the Beacon account signed, so
 * notify itself connects with a credentials file (NATS_CREDS_FILE) of such a user.
 */

const encode = (text: string) => new TextEncoder().encode(text);

const test = base
  .extend('operator', { scope: 'file' }, async (): Promise<OperatorSetup> => createOperatorSetup())
  .extend('server', { scope: 'file' }, async ({ operator }, { onCleanup }): Promise<DedicatedServer> => {
    const probe = await mintServiceUser(operator.signer, { name: 'probe' });
    const server = await startDedicated('nats', {
      natsConfig: renderOperatorConfig(operator),
      // Anonymous clients are refused in operator mode, so the kit's own probe cannot work.
      ready: async (url) => {
        const nc = await connect({
          servers: url,
          authenticator: credsAuthenticator(encode(probe.creds)),
          reconnect: false,
          timeout: 2_000,
        });
        try {
          await jetstreamManager(nc);
        } finally {
          await nc.close();
        }
      },
    });
    onCleanup(() => server.stop());
    return server;
  });

function notifyEnv(infra: Endpoints, names: TestNames, server: DedicatedServer) {
  return {
    MONGO_URL: infra.mongoUrl,
    NOTIFY_DB: names.database('notify'),
    NATS_URL: server.url,
    EVENTS_STREAM: names.stream('EVENTS'),
    EVENTS_SUBJECT_ROOT: names.subject('beacon.evt'),
    FEEDS_STREAM: names.stream('FEEDS'),
    FEEDS_SUBJECT_ROOT: names.subject('beacon.feed'),
    NOTIFY_FANOUT_CONSUMER: names.stream('fanout'),
    NOTIFY_CHANNELS_CONSUMER: names.stream('channels'),
    AUTH_ISSUER: 'https://id.example',
    AUTH_JWKS_URL: 'http://127.0.0.1:9/unused',
  };
}

const start = (environment: Record<string, string>) => {
  const config = loadConfig(environment);
  return startNotify(
    { ...config, grpc: { host: '127.0.0.1', port: 0 } },
    createLogger({ name: 'notify-operator-test', level: 'silent' }),
  );
};

test('notify connects with NATS_CREDS_FILE and declares its streams and consumers', async ({
  infra,
  names,
  operator,
  server,
}) => {
  const dir = join(server.process.spec.logFile, '..');
  const credsFile = join(dir, 'notify.creds');
  writeFileSync(credsFile, (await mintServiceUser(operator.signer, { name: 'notify' })).creds);
  const signerFile = join(dir, 'signer.json');
  writeFileSync(signerFile, JSON.stringify(operator.signer));

  const notify = await start({
    ...notifyEnv(infra, names, server),
    NATS_CREDS_FILE: credsFile,
    NATS_ACCOUNT_SIGNER_FILE: signerFile,
  });
  try {
    const admin = await connect({
      servers: server.url,
      authenticator: credsAuthenticator(
        encode((await mintServiceUser(operator.signer, { name: 'admin' })).creds),
      ),
    });
    try {
      const jsm = await jetstreamManager(admin);
      expect((await jsm.streams.info(names.stream('FEEDS'))).config.subjects).toEqual([
        `${names.subject('beacon.feed')}.>`,
      ]);
      const durables: string[] = [];
      for await (const info of jsm.consumers.list(names.stream('EVENTS'))) durables.push(info.name);
      expect(durables).toContain(names.stream('fanout'));
    } finally {
      await admin.close();
    }
  } finally {
    await notify.stop();
  }
});

test('notify is refused at start without credentials, or with a user another operator signed', async ({
  infra,
  names,
  server,
}) => {
  const refusal = async (environment: Record<string, string>) => {
    const error = await start(environment).then(
      () => expect.fail('it connected'),
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(NatsConnectError);
    return (error as Error).message;
  };
  expect(await refusal(notifyEnv(infra, names, server))).toMatch(
    /as beacon-notify \(no credentials\): .*Authorization Violation/i,
  );

  const stranger = await createOperatorSetup();
  const credsFile = join(server.process.spec.logFile, '..', 'stranger.creds');
  writeFileSync(credsFile, (await mintServiceUser(stranger.signer, { name: 'notify' })).creds);
  expect(await refusal({ ...notifyEnv(infra, names, server), NATS_CREDS_FILE: credsFile })).toMatch(
    /\(credentials file .*stranger\.creds\): .*Authorization Violation/i,
  );
});

test('an agency removed from an incident cannot read its withdrawn copies with NATS credentials issued before', async ({
  infra,
  names,
  operator,
  server,
}) => {
  const dir = join(server.process.spec.logFile, '..');
  const credsFile = join(dir, 'notify-withdrawal.creds');
  writeFileSync(credsFile, (await mintServiceUser(operator.signer, { name: 'notify' })).creds);
  const signerFile = join(dir, 'signer-withdrawal.json');
  writeFileSync(signerFile, JSON.stringify(operator.signer));
  // Agencies' permissions name the production stream and subjects: the dedicated server has
  // them to itself.
  const notify = await start({
    ...notifyEnv(infra, names, server),
    FEEDS_STREAM: FEEDS_STREAM,
    FEEDS_SUBJECT_ROOT: FEED_SUBJECT_ROOT,
    NATS_CREDS_FILE: credsFile,
    NATS_ACCOUNT_SIGNER_FILE: signerFile,
  });
  const connectAs = async (creds: string, inboxPrefix?: string) =>
    connect({
      servers: server.url,
      authenticator: credsAuthenticator(encode(creds)),
      ...(inboxPrefix ? { inboxPrefix } : {}),
    });
  const admin = await connectAs((await mintServiceUser(operator.signer, { name: 'intake' })).creds);
  const agencies: NatsConnection[] = [];
  try {
    const cc = { subject: 'cc', roles: ['coordinator'], agencyId: undefined, clearance: 'RED' as const };
    for (const id of ['cert-a', 'cert-b']) {
      await notify.service.putAgency(cc, registered(id), 0);
      await notify.service.putSubscription(cc, { id: 'all', agencyId: id });
    }
    const js = jetstream(admin);
    const publish = async (event: string, engagedAgencyIds: string[], version: number, data: Uint8Array) => {
      const envelope = encodeEnvelope({
        id: `evt-${event}-${version}`,
        time: new Date(),
        source: 'intake',
        domain: 'incident',
        event,
        subject: 'incident/inc_red1',
        tlp: 'RED',
        incidentId: 'inc_red1',
        schema: 'beacon.intake.v1.X',
        data,
      });
      await js.publish(`${names.subject('beacon.evt')}.${envelope.subject}`, envelope.data, {
        msgID: `evt-${event}-${version}`,
      });
    };
    const incident = (engagedAgencyIds: string[], version: number) =>
      intakeV1.Incident.fromPartial({
        id: 'inc_red1',
        tlp: 5,
        sectors: ['energy'],
        jurisdictions: ['DE'],
        engagedAgencyIds,
        version,
      });
    await publish(
      'opened',
      ['cert-a', 'cert-b'],
      1,
      intakeV1.IncidentOpened.encode({ incident: incident(['cert-a', 'cert-b'], 1) }).finish(),
    );

    // Each agency reads its feed with credentials only it can use, as IssueFeedCredentials mints them.
    const read = async (agencyId: string, creds: string) => {
      const nc = await connectAs(creds, agencyInboxPrefix(agencyId));
      agencies.push(nc);
      const jsm = await jetstreamManager(nc);
      const durable = agencyConsumerName(agencyId);
      await jsm.consumers.delete(FEEDS_STREAM, durable).catch(() => undefined);
      await jsm.consumers.add(FEEDS_STREAM, {
        durable_name: durable,
        filter_subject: agencyFeedFilter(agencyId),
        ack_policy: AckPolicy.Explicit,
        deliver_policy: DeliverPolicy.All,
      });
      const consumer = await jetstream(nc).consumers.get(FEEDS_STREAM, durable);
      const pending = (await consumer.info()).num_pending;
      const types: string[] = [];
      if (pending > 0) {
        for await (const m of await consumer.fetch({ max_messages: pending, expires: 5_000 })) {
          types.push(`${eventsV1.Envelope.decode(m.data).type}@${m.subject.split('.')[4]}`);
          m.ack();
          if (types.length === pending) break;
        }
      }
      await nc.close();
      return types;
    };
    const credsA = (await mintAgencyUser(operator.signer, { agencyId: 'cert-a' })).creds;
    const credsB = (await mintAgencyUser(operator.signer, { agencyId: 'cert-b' })).creds;
    await waitFor(
      async () => expect(await read('cert-a', credsA)).toEqual(['beacon.incident.opened.v1@red']),
      {
        what: 'cert-a’s copy',
        timeoutMs: 15_000,
      },
    );

    await publish(
      'agency-unassigned',
      ['cert-b'],
      2,
      intakeV1.AgencyUnassigned.encode({ incident: incident(['cert-b'], 2), agencyId: 'cert-a' }).finish(),
    );
    // With the credentials it held all along, a new consumer from the start finds only the notice.
    await waitFor(
      async () => expect(await read('cert-a', credsA)).toEqual(['beacon.notify.access-withdrawn.v1@green']),
      { what: 'the withdrawal', timeoutMs: 15_000 },
    );
    // cert-b, still engaged, reads both RED events.
    expect(await read('cert-b', credsB)).toEqual([
      'beacon.incident.opened.v1@red',
      'beacon.incident.agency-unassigned.v1@red',
    ]);
  } finally {
    for (const nc of agencies) if (!nc.isClosed()) await nc.close();
    await admin.close();
    await notify.stop();
  }
});

function registered(id: string) {
  return {
    id,
    name: `Agency ${id}`,
    kind: 'csirt' as const,
    jurisdictions: ['DE' as Jurisdiction],
    sectors: ['energy' as const],
    clearance: 'RED' as const,
    contacts: [{ role: 'duty-officer' as const, name: 'Desk', email: 'desk@agency.example' }],
    channels: {},
  };
}
