import {
  AckPolicy,
  DeliverPolicy,
  jetstream,
  jetstreamManager,
  type JetStreamManager,
} from '@nats-io/jetstream';
import { encodeUser } from '@nats-io/jwt';
import {
  AuthorizationError,
  credsAuthenticator,
  jwtAuthenticator,
  PermissionViolationError,
  type NatsConnection,
} from '@nats-io/nats-core';
import { createUser, fromSeed } from '@nats-io/nkeys';
import { connect, type NodeConnectionOptions } from '@nats-io/transport-node';
import { describe, expect, test as base } from 'vitest';
import { startDedicated, waitFor, type DedicatedServer } from '@beacon/testkit';
import {
  agencyConsumerName,
  agencyFeedFilter,
  agencyInboxPrefix,
  createOperatorSetup,
  FEEDS_STREAM,
  mintAgencyUser,
  mintServiceUser,
  mintSystemUser,
  renderOperatorConfig,
  signBeaconAccount,
  type OperatorSetup,
  type UserCredentials,
} from '@beacon/platform';

/**
 * The NATS server itself keeps each agency to its own feed: a nats-server of the test's own in
 * operator mode, with the JWTs and permissions notify mints. Every refusal is asserted as the
 * server's own error (a permissions violation naming the subject, or a JetStream API error
 * code), with the same operation succeeding for a service user where that shows the refusal is
 * about permissions and not about a missing stream or consumer.
 */

const A = 'agency-a';
const B = 'agency-b';
/** A feed message's subject as notify publishes it: agency, incident, label, then the event type. */
const opened = (agency: string) => `beacon.feed.${agency}.inc_1.red.incident.opened`;
const EVENTS_STREAM = 'BEACON_EVENTS';
const PER_AGENCY = 5;

const encode = (text: string) => new TextEncoder().encode(text);

function connectAs(
  url: string,
  user: Pick<UserCredentials, 'creds'>,
  options: Partial<NodeConnectionOptions> = {},
): Promise<NatsConnection> {
  return connect({
    servers: url,
    authenticator: credsAuthenticator(encode(user.creds)),
    reconnect: false,
    ...options,
  });
}

interface Feeds {
  readonly service: NatsConnection;
  readonly jsm: JetStreamManager;
  /** Stream sequences of each agency's messages, in publish order. */
  readonly seqs: { readonly [A]: number[]; readonly [B]: number[] };
}

const test = base
  .extend('operator', { scope: 'file' }, async (): Promise<OperatorSetup> => createOperatorSetup())
  .extend('server', { scope: 'file' }, async ({ operator }, { onCleanup }): Promise<DedicatedServer> => {
    const probe = await mintServiceUser(operator.signer, { name: 'probe' });
    const server = await startDedicated('nats', {
      natsConfig: renderOperatorConfig(operator),
      // Anonymous clients are refused in operator mode, so the kit's own probe cannot work.
      ready: async (url) => {
        const nc = await connectAs(url, probe, { timeout: 2_000 });
        try {
          await jetstreamManager(nc);
        } finally {
          await nc.close();
        }
      },
    });
    onCleanup(() => server.stop());
    return server;
  })
  .extend('feeds', { scope: 'file' }, async ({ operator, server }, { onCleanup }): Promise<Feeds> => {
    const service = await connectAs(server.url, await mintServiceUser(operator.signer, { name: 'notify' }));
    onCleanup(() => service.close());
    const jsm = await jetstreamManager(service);
    // allow_direct so a refused direct get is refused by permissions, not for want of responders.
    await jsm.streams.add({ name: FEEDS_STREAM, subjects: ['beacon.feed.>'], allow_direct: true });
    await jsm.streams.add({ name: EVENTS_STREAM, subjects: ['beacon.evt.>'] });
    const js = jetstream(service);
    const seqs = { [A]: [] as number[], [B]: [] as number[] };
    for (let i = 0; i < PER_AGENCY; i++) {
      for (const agency of [A, B] as const) {
        const ack = await js.publish(opened(agency), `${agency}-${i}`);
        seqs[agency].push(ack.seq);
      }
    }
    // B's own durable, as B (or notify for B) would have created it.
    await jsm.consumers.add(FEEDS_STREAM, {
      durable_name: agencyConsumerName(B),
      filter_subject: agencyFeedFilter(B),
      ack_policy: AckPolicy.Explicit,
    });
    return { service, jsm, seqs };
  })
  .extend('agencyUser', async ({ operator }): Promise<UserCredentials> =>
    mintAgencyUser(operator.signer, { agencyId: A, consumers: ['feed', 'replay'], ttlSeconds: 600 }),
  )
  .extend('agencyA', async ({ server, feeds, agencyUser }, { onCleanup }): Promise<NatsConnection> => {
    const nc = await connectAs(server.url, agencyUser, { inboxPrefix: agencyInboxPrefix(A), name: A });
    onCleanup(async () => {
      if (!nc.isClosed()) await nc.close();
      // Each test starts with no consumer of A's and an empty events stream.
      for await (const info of feeds.jsm.consumers.list(FEEDS_STREAM)) {
        if (info.name.startsWith(`${A}_`)) await feeds.jsm.consumers.delete(FEEDS_STREAM, info.name);
      }
      await feeds.jsm.streams.purge(EVENTS_STREAM);
    });
    return nc;
  });

/** What the server answered instead of doing it: the permissions violation behind the error. */
async function violation(attempt: Promise<unknown>): Promise<PermissionViolationError> {
  const error = await attempt.then(
    () => expect.fail('the server allowed it'),
    (e: unknown) => e,
  );
  const cause = error instanceof PermissionViolationError ? error : (error as Error).cause;
  if (!(cause instanceof PermissionViolationError)) throw error;
  return cause;
}

async function expectPublishDenied(attempt: Promise<unknown>, subject: string): Promise<void> {
  const denied = await violation(attempt);
  expect(denied.message).toBe(`Permissions Violation for Publish to "${subject}"`);
  expect(denied).toMatchObject({ operation: 'publish', subject });
}

/** A raw JetStream API request whose JSON reply carries the server's verdict. */
async function apiRequest(nc: NatsConnection, subject: string, body: unknown) {
  const reply = await nc.request(subject, JSON.stringify(body), { timeout: 5_000 });
  return reply.json<{ error?: { code: number; err_code: number; description: string } }>();
}

async function fetchAll(nc: NatsConnection, durable: string) {
  const consumer = await jetstream(nc).consumers.get(FEEDS_STREAM, durable);
  const got: { subject: string; seq: number; data: string }[] = [];
  for await (const msg of await consumer.fetch({ max_messages: 100, expires: 1_000 })) {
    got.push({ subject: msg.subject, seq: msg.seq, data: msg.string() });
    // A double ack, so the test knows the server took the ack from the agency's user.
    expect(await msg.ackAck()).toBe(true);
  }
  return got;
}

describe('an agency consumes its own feed', () => {
  test('a durable pull consumer on its own filter returns its messages and no one else’s', async ({
    agencyA,
    feeds,
  }) => {
    const jsm = await jetstreamManager(agencyA);
    const durable = agencyConsumerName(A);
    await jsm.consumers.add(FEEDS_STREAM, {
      durable_name: durable,
      filter_subject: agencyFeedFilter(A),
      ack_policy: AckPolicy.Explicit,
    });

    const got = await fetchAll(agencyA, durable);
    expect(got.map((m) => m.seq)).toEqual(feeds.seqs[A]);
    expect(new Set(got.map((m) => m.subject))).toEqual(new Set([opened(A)]));
    expect(got.map((m) => m.data)).toEqual(Array.from({ length: PER_AGENCY }, (_, i) => `${A}-${i}`));

    const info = await jsm.consumers.info(FEEDS_STREAM, durable);
    expect(info.num_ack_pending).toBe(0);
    expect(info.num_pending).toBe(0);
    expect(await jsm.consumers.delete(FEEDS_STREAM, durable)).toBe(true);
  });

  test('replay from a stream sequence, even one of another agency’s messages, yields only its own', async ({
    agencyA,
    feeds,
  }) => {
    const from = feeds.seqs[B][1]!; // a sequence that holds one of B's messages
    const durable = agencyConsumerName(A, 'replay');
    await (
      await jetstreamManager(agencyA)
    ).consumers.add(FEEDS_STREAM, {
      durable_name: durable,
      filter_subject: agencyFeedFilter(A),
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.StartSequence,
      opt_start_seq: from,
    });
    const got = await fetchAll(agencyA, durable);
    expect(got.map((m) => m.seq)).toEqual(feeds.seqs[A].filter((seq) => seq >= from));
    expect(got.every((m) => m.subject.startsWith(`beacon.feed.${A}.`))).toBe(true);
  });
});

describe("the server refuses agency A everything that would reach agency B's feed", () => {
  test('a consumer filtered to B’s feed', async ({ agencyA }) => {
    const jsm = await jetstreamManager(agencyA);
    await expectPublishDenied(
      jsm.consumers.add(FEEDS_STREAM, {
        durable_name: agencyConsumerName(A),
        filter_subject: agencyFeedFilter(B),
        ack_policy: AckPolicy.Explicit,
      }),
      `$JS.API.CONSUMER.CREATE.${FEEDS_STREAM}.${A}_feed.beacon.feed.${B}.>`,
    );
  });

  test('a consumer without a filter, or with the whole stream as its filter', async ({ agencyA }) => {
    const jsm = await jetstreamManager(agencyA);
    const unfiltered = `$JS.API.CONSUMER.CREATE.${FEEDS_STREAM}.${A}_feed`;
    await expectPublishDenied(
      jsm.consumers.add(FEEDS_STREAM, {
        durable_name: agencyConsumerName(A),
        ack_policy: AckPolicy.Explicit,
      }),
      unfiltered,
    );
    await expectPublishDenied(
      jsm.consumers.add(FEEDS_STREAM, {
        durable_name: agencyConsumerName(A),
        filter_subject: 'beacon.feed.>',
        ack_policy: AckPolicy.Explicit,
      }),
      `${unfiltered}.beacon.feed.>`,
    );
    // An ephemeral consumer or the legacy durable API: other subjects, equally refused.
    await expectPublishDenied(
      agencyA.request(`$JS.API.CONSUMER.CREATE.${FEEDS_STREAM}`, '{}'),
      `$JS.API.CONSUMER.CREATE.${FEEDS_STREAM}`,
    );
    await expectPublishDenied(
      agencyA.request(`$JS.API.CONSUMER.DURABLE.CREATE.${FEEDS_STREAM}.${A}_feed`, '{}'),
      `$JS.API.CONSUMER.DURABLE.CREATE.${FEEDS_STREAM}.${A}_feed`,
    );
  });

  test('its own create subject with B’s filter in the request body', async ({ agencyA }) => {
    const durable = agencyConsumerName(A);
    // The subject passes the permission check; JetStream then compares it with the config.
    const subject = `$JS.API.CONSUMER.CREATE.${FEEDS_STREAM}.${durable}.${agencyFeedFilter(A)}`;
    const config = { durable_name: durable, ack_policy: 'explicit' };
    const mismatch = await apiRequest(agencyA, subject, {
      stream_name: FEEDS_STREAM,
      config: { ...config, filter_subject: agencyFeedFilter(B) },
    });
    expect(mismatch.error).toMatchObject({ code: 400, err_code: 10131 }); // filter does not match subject
    const several = await apiRequest(agencyA, subject, {
      stream_name: FEEDS_STREAM,
      config: { ...config, filter_subjects: [agencyFeedFilter(A), agencyFeedFilter(B)] },
    });
    expect(several.error).toMatchObject({ code: 400, err_code: 10137 }); // multiple filters refused
    const renamed = await apiRequest(agencyA, subject, {
      stream_name: FEEDS_STREAM,
      config: { ...config, durable_name: agencyConsumerName(B), filter_subject: agencyFeedFilter(A) },
    });
    expect(renamed.error).toMatchObject({ code: 400, err_code: 10017 }); // name differs from subject
  });

  test('fetching from, reading, replacing or deleting B’s durable', async ({ agencyA, feeds }) => {
    const durable = agencyConsumerName(B);
    // The durable exists and serves B: the service user can read it.
    expect((await feeds.jsm.consumers.info(FEEDS_STREAM, durable)).num_pending).toBe(PER_AGENCY);

    await expectPublishDenied(
      jetstream(agencyA).consumers.get(FEEDS_STREAM, durable),
      `$JS.API.CONSUMER.INFO.${FEEDS_STREAM}.${durable}`,
    );
    await expectPublishDenied(
      agencyA.request(`$JS.API.CONSUMER.MSG.NEXT.${FEEDS_STREAM}.${durable}`, JSON.stringify({ batch: 1 })),
      `$JS.API.CONSUMER.MSG.NEXT.${FEEDS_STREAM}.${durable}`,
    );
    const jsm = await jetstreamManager(agencyA);
    await expectPublishDenied(
      jsm.consumers.delete(FEEDS_STREAM, durable),
      `$JS.API.CONSUMER.DELETE.${FEEDS_STREAM}.${durable}`,
    );
    await expectPublishDenied(
      jsm.consumers.add(FEEDS_STREAM, {
        durable_name: durable,
        filter_subject: agencyFeedFilter(A),
        ack_policy: AckPolicy.Explicit,
      }),
      `$JS.API.CONSUMER.CREATE.${FEEDS_STREAM}.${durable}.${agencyFeedFilter(A)}`,
    );
    // Nothing was taken from B's consumer.
    expect((await feeds.jsm.consumers.info(FEEDS_STREAM, durable)).num_pending).toBe(PER_AGENCY);
  });

  test('a core subscription to B’s feed subjects, or to any feed', async ({ agencyA }) => {
    for (const subject of [`beacon.feed.${B}.>`, 'beacon.feed.>', `beacon.feed.${A}.>`, '>']) {
      const sub = agencyA.subscribe(subject);
      const closed = await sub.closed;
      expect(closed).toBeInstanceOf(PermissionViolationError);
      expect((closed as PermissionViolationError).message).toBe(
        `Permissions Violation for Subscription to "${subject}"`,
      );
    }
  });

  test('reading B’s message by sequence: message get, direct get, stream info', async ({
    agencyA,
    feeds,
  }) => {
    const seq = feeds.seqs[B][0]!;
    // Both reads work for a user allowed to make them.
    expect((await feeds.jsm.streams.getMessage(FEEDS_STREAM, { seq }))?.string()).toBe(`${B}-0`);
    const direct = await feeds.service.request(`$JS.API.DIRECT.GET.${FEEDS_STREAM}`, JSON.stringify({ seq }));
    expect(direct.string()).toBe(`${B}-0`);

    const jsm = await jetstreamManager(agencyA);
    await expectPublishDenied(
      jsm.streams.getMessage(FEEDS_STREAM, { seq }),
      `$JS.API.STREAM.MSG.GET.${FEEDS_STREAM}`,
    );
    await expectPublishDenied(
      agencyA.request(`$JS.API.DIRECT.GET.${FEEDS_STREAM}`, JSON.stringify({ seq })),
      `$JS.API.DIRECT.GET.${FEEDS_STREAM}`,
    );
    const lastOfB = `$JS.API.DIRECT.GET.${FEEDS_STREAM}.${opened(B)}`;
    await expectPublishDenied(agencyA.request(lastOfB, ''), lastOfB);
    await expectPublishDenied(jsm.streams.info(FEEDS_STREAM), `$JS.API.STREAM.INFO.${FEEDS_STREAM}`);
  });

  test('publishing into any feed, its own included: agencies do not write feeds', async ({
    agencyA,
    feeds,
  }) => {
    const before = (await feeds.jsm.streams.info(FEEDS_STREAM)).state.messages;
    for (const subject of [`beacon.feed.${A}.x`, opened(B), 'beacon.evt.incident.opened']) {
      await expectPublishDenied(jetstream(agencyA).publish(subject, 'forged'), subject);
    }
    expect((await feeds.jsm.streams.info(FEEDS_STREAM)).state.messages).toBe(before);
  });

  test('acknowledging only under its own id: the server refuses a request in another agency’s name', async ({
    agencyA,
    feeds: { service },
  }) => {
    // The service user answers acknowledgements, as notify does.
    const answered: string[] = [];
    const responder = service.subscribe('beacon.ack.*.*', {
      callback: (_error, message) => {
        answered.push(message.subject);
        message.respond('{"ok":true}');
      },
    });
    await service.flush();
    const own = await agencyA.request(`beacon.ack.${A}.inc_123`, 'on it', { timeout: 5_000 });
    expect(own.json()).toEqual({ ok: true });
    await expectPublishDenied(
      agencyA.request(`beacon.ack.${B}.inc_123`, 'forged', { timeout: 5_000 }),
      `beacon.ack.${B}.inc_123`,
    );
    expect(answered).toEqual([`beacon.ack.${A}.inc_123`]);
    responder.unsubscribe();
  });

  test('any inbox prefix but its own, so it can read no one else’s replies', async ({
    server,
    agencyUser,
  }) => {
    for (const inboxPrefix of [undefined, agencyInboxPrefix(B)]) {
      const nc = await connectAs(server.url, agencyUser, inboxPrefix ? { inboxPrefix } : {});
      try {
        const denied = await violation(jetstreamManager(nc));
        expect(denied.operation).toBe('subscription');
        expect(denied.subject).toMatch(
          new RegExp(`^${(inboxPrefix ?? '_INBOX').replace('.', '\\.')}\\.\\w+\\.\\*$`),
        );
        expect(denied.message).toBe(`Permissions Violation for Subscription to "${denied.subject}"`);
      } finally {
        await nc.close();
      }
    }
  });
});

describe('credentials', () => {
  test('expired, bearer or unknown-signer credentials cannot connect at all', async ({
    server,
    operator,
  }) => {
    const expired = await mintAgencyUser(operator.signer, {
      agencyId: A,
      ttlSeconds: 1,
      now: new Date(Date.now() - 60_000),
    });
    await expect(connectAs(server.url, expired)).rejects.toBeInstanceOf(AuthorizationError);

    const bearerKey = createUser();
    const bearer = await encodeUser(
      'bearer',
      bearerKey,
      operator.signer.accountPublicKey,
      { bearer_token: true },
      { signer: fromSeed(encode(operator.signer.signingSeed)) },
    );
    await expect(
      connect({ servers: server.url, authenticator: jwtAuthenticator(bearer), reconnect: false }),
    ).rejects.toBeInstanceOf(AuthorizationError);

    const stranger = (await createOperatorSetup()).signer; // same account name, other keys
    const forged = await mintAgencyUser(stranger, { agencyId: A });
    await expect(connectAs(server.url, forged)).rejects.toBeInstanceOf(AuthorizationError);
  });

  test('a revocation pushed by a system user cuts the agency off at once, without a reload', async ({
    server,
    operator,
    agencyA,
    agencyUser,
  }) => {
    await jetstreamManager(agencyA); // connected and working
    const revoked = await signBeaconAccount({
      operatorSeed: operator.operator.seed,
      name: operator.account.name,
      accountPublicKey: operator.account.publicKey,
      signingPublicKey: fromSeed(encode(operator.signer.signingSeed)).getPublicKey(),
      revocations: { [agencyUser.publicKey]: Math.floor(Date.now() / 1000) },
    });
    const system = await connectAs(server.url, await mintSystemUser(operator.systemAccount));
    try {
      const reply = await system.request(
        `$SYS.REQ.ACCOUNT.${operator.account.publicKey}.CLAIMS.UPDATE`,
        revoked,
      );
      expect(reply.json<{ data?: { code: number }; error?: unknown }>()).toMatchObject({
        data: { code: 200 },
      });
    } finally {
      await system.close();
    }
    const closed = await agencyA.closed();
    expect(closed).toBeInstanceOf(Error);
    expect((closed as Error).message).toMatch(/revoked/i);
    await expect(connectAs(server.url, agencyUser)).rejects.toBeInstanceOf(AuthorizationError);
  });
});

/**
 * Known gaps of NATS 2.15, pinned so that a fix (or a regression) is noticed: neither the reply
 * subject of a pull request nor a push consumer's deliver subject is checked against the
 * requester's permissions (nats-server issue #8274). An agency cannot read more than its own
 * feed this way, but it can make the server write copies of it into subjects it may not publish
 * to — here into the events stream. See the notes in credentials.ts.
 */
describe('known gaps: the server delivers an agency’s own feed wherever the agency points it', () => {
  test('a pull request whose reply subject is another stream’s subject', async ({ agencyA, feeds }) => {
    const durable = agencyConsumerName(A);
    await (
      await jetstreamManager(agencyA)
    ).consumers.add(FEEDS_STREAM, {
      durable_name: durable,
      filter_subject: agencyFeedFilter(A),
      ack_policy: AckPolicy.Explicit,
    });
    agencyA.publish(
      `$JS.API.CONSUMER.MSG.NEXT.${FEEDS_STREAM}.${durable}`,
      JSON.stringify({ batch: 2, no_wait: true }),
      {
        reply: 'beacon.evt.injected',
      },
    );
    await waitFor(
      async () => {
        const { messages } = (await feeds.jsm.streams.info(EVENTS_STREAM)).state;
        if (messages !== 2) throw new Error(`${messages} messages in ${EVENTS_STREAM}`);
      },
      { what: 'the pulled messages in the events stream', timeoutMs: 5_000 },
    );
    // Stored under the feed subject they had, in a stream whose subjects are beacon.evt.>.
    const first = await feeds.jsm.streams.getMessage(EVENTS_STREAM, { seq: 1 });
    expect(first?.subject).toBe(opened(A));
    expect(first?.string()).toBe(`${A}-0`);
  });

  test('a push consumer whose deliver subject a service listens on', async ({ agencyA, feeds }) => {
    // Push consumers deliver only while something other than a stream listens on the deliver
    // subject; here a service's core subscription, and the events stream captures them too.
    const subject = 'beacon.evt.pushed';
    const received: string[] = [];
    const listener = feeds.service.subscribe(subject, {
      callback: (_, msg) => void received.push(msg.string()),
    });
    await feeds.service.flush();
    try {
      await (
        await jetstreamManager(agencyA)
      ).consumers.add(FEEDS_STREAM, {
        durable_name: agencyConsumerName(A),
        filter_subject: agencyFeedFilter(A),
        ack_policy: AckPolicy.None,
        deliver_subject: subject,
      });
      await waitFor(
        async () => {
          const { messages } = (await feeds.jsm.streams.info(EVENTS_STREAM)).state;
          if (received.length !== PER_AGENCY || messages !== PER_AGENCY) {
            throw new Error(`${received.length} received, ${messages} in ${EVENTS_STREAM}`);
          }
        },
        { what: 'the pushed messages at the listener and in the events stream', timeoutMs: 5_000 },
      );
      expect(received).toEqual(Array.from({ length: PER_AGENCY }, (_, i) => `${A}-${i}`));
    } finally {
      listener.unsubscribe();
    }
  });
});
