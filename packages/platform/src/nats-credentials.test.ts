import { decode, type Account, type ClaimsData, type Operator, type User } from '@nats-io/jwt';
import { fromSeed } from '@nats-io/nkeys';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  agencyConsumerName,
  agencyFeedFilter,
  agencyInboxPrefix,
  agencyPermissions,
  createOperatorSetup,
  DEFAULT_AGENCY_TTL_SECONDS,
  GATEWAY_LIMITS_SUBJECT,
  gatewayPermissions,
  mintAgencyUser,
  mintGatewayUser,
  mintServiceUser,
  mintSystemUser,
  renderOperatorConfig,
  signBeaconAccount,
  type OperatorSetup,
} from './nats-credentials.js';

const signingPublicKey = (setup: OperatorSetup) =>
  fromSeed(new TextEncoder().encode(setup.signer.signingSeed)).getPublicKey();

let setup: OperatorSetup;
beforeAll(async () => {
  setup = await createOperatorSetup();
});

describe('agencyPermissions', () => {
  it('allows exactly its own consumer, fetch, ack, acknowledgements, account info and inbox', () => {
    expect(agencyPermissions('agency-a')).toEqual({
      pub: {
        allow: [
          '$JS.API.INFO',
          'beacon.ack.agency-a.>',
          '$JS.API.CONSUMER.CREATE.BEACON_FEEDS.agency-a_feed.beacon.feed.agency-a.>',
          '$JS.API.CONSUMER.INFO.BEACON_FEEDS.agency-a_feed',
          '$JS.API.CONSUMER.DELETE.BEACON_FEEDS.agency-a_feed',
          '$JS.API.CONSUMER.MSG.NEXT.BEACON_FEEDS.agency-a_feed',
          '$JS.ACK.BEACON_FEEDS.agency-a_feed.>',
        ],
      },
      sub: { allow: ['_INBOX.agency-a.>'] },
    });
  });

  it('lists each named durable once, every one behind the agency prefix', () => {
    const { pub } = agencyPermissions('cert-de', ['feed', 'replay', 'feed']);
    expect(pub.allow.filter((s) => s.startsWith('$JS.API.CONSUMER.MSG.NEXT.'))).toEqual([
      '$JS.API.CONSUMER.MSG.NEXT.BEACON_FEEDS.cert-de_feed',
      '$JS.API.CONSUMER.MSG.NEXT.BEACON_FEEDS.cert-de_replay',
    ]);
    expect(pub.allow.filter((s) => s.startsWith('$JS.API.CONSUMER.CREATE.'))).toEqual([
      '$JS.API.CONSUMER.CREATE.BEACON_FEEDS.cert-de_feed.beacon.feed.cert-de.>',
      '$JS.API.CONSUMER.CREATE.BEACON_FEEDS.cert-de_replay.beacon.feed.cert-de.>',
    ]);
  });

  it('grants nothing that reads the stream around a consumer or writes a feed', () => {
    const { pub, sub } = agencyPermissions('agency-a', ['feed', 'replay']);
    // Beacon subjects: its own acknowledgements only.
    expect(pub.allow.filter((s) => s.startsWith('beacon.'))).toEqual(['beacon.ack.agency-a.>']);
    for (const subject of pub.allow.filter((s) => !s.startsWith('beacon.ack.'))) {
      expect(subject).not.toMatch(
        /^beacon\.|STREAM|DIRECT|\*|CONSUMER\.(CREATE|DURABLE\.CREATE)\.[^.]+(\.[^.]+)?$/,
      );
    }
    // The only wildcard in the publish list is the tail of the agency's own subjects.
    expect(pub.allow.filter((s) => s.includes('>'))).toHaveLength(5);
    expect(sub.allow).toEqual(['_INBOX.agency-a.>']);
  });

  it.each(['', 'Agency-A', 'agency.a', 'agency_a', '-agency', '*', '>', 'a b', 'x'.repeat(64)])(
    'refuses the agency id %j, which could not name its subjects and consumers unambiguously',
    (agencyId) => {
      expect(() => agencyPermissions(agencyId)).toThrow(/agency id/);
    },
  );

  it.each(['', 'Feed', 'feed.x', 'feed_x', '*', '>'])('refuses the consumer name %j', (name) => {
    expect(() => agencyPermissions('agency-a', [name])).toThrow(/consumer name/);
  });

  it('needs at least one consumer', () => {
    expect(() => agencyPermissions('agency-a', [])).toThrow(/at least one/);
  });

  it('names subjects, durables and inboxes alike everywhere', () => {
    expect(agencyFeedFilter('cert-de')).toBe('beacon.feed.cert-de.>');
    expect(agencyInboxPrefix('cert-de')).toBe('_INBOX.cert-de');
    expect(agencyConsumerName('cert-de')).toBe('cert-de_feed');
    expect(agencyConsumerName('cert-de', 'replay')).toBe('cert-de_replay');
  });
});

describe('mintAgencyUser', () => {
  it('signs a non-bearer, expiring user of the Beacon account with the agency permissions', async () => {
    const now = new Date('2030-01-02T03:04:05Z');
    const user = await mintAgencyUser(setup.signer, { agencyId: 'agency-a', ttlSeconds: 3600, now });
    const claims = decode<User>(user.jwt); // verifies the signature too

    expect(claims.sub).toBe(user.publicKey);
    expect(claims.name).toBe('agency-agency-a');
    expect(claims.iss).toBe(signingPublicKey(setup));
    expect(claims.nats.issuer_account).toBe(setup.account.publicKey);
    expect(claims.nats.type).toBe('user');
    expect(claims.exp).toBe(Date.parse('2030-01-02T04:04:05Z') / 1000);
    expect(user.expiresAt).toEqual(new Date('2030-01-02T04:04:05Z'));
    expect(claims.nats.bearer_token).toBe(false);
    expect(claims.nats.allowed_connection_types).toEqual(['STANDARD']);
    expect(claims.nats.pub).toEqual(agencyPermissions('agency-a').pub);
    expect(claims.nats.sub).toEqual(agencyPermissions('agency-a').sub);
    // No response permission: an agency answers nobody's requests.
    expect(claims.nats.resp).toBeUndefined();
  });

  it('expires after a week unless told otherwise', async () => {
    const now = new Date('2030-01-01T00:00:00Z');
    const user = await mintAgencyUser(setup.signer, { agencyId: 'agency-a', now });
    expect(decode(user.jwt).exp).toBe(now.getTime() / 1000 + DEFAULT_AGENCY_TTL_SECONDS);
  });

  it('writes a creds file holding the JWT and the user seed, and a fresh key every time', async () => {
    const first = await mintAgencyUser(setup.signer, { agencyId: 'agency-a' });
    const second = await mintAgencyUser(setup.signer, { agencyId: 'agency-a' });
    expect(first.creds).toContain(`-----BEGIN NATS USER JWT-----\n${first.jwt}\n`);
    const seed = /-----BEGIN USER NKEY SEED-----\n(SU[A-Z0-9]+)\n/.exec(first.creds)?.[1];
    expect(fromSeed(new TextEncoder().encode(seed)).getPublicKey()).toBe(first.publicKey);
    expect(second.publicKey).not.toBe(first.publicKey);
  });

  it.each([0, -1, 1.5, Number.NaN])('refuses a ttl of %s seconds', async (ttlSeconds) => {
    await expect(mintAgencyUser(setup.signer, { agencyId: 'agency-a', ttlSeconds })).rejects.toThrow(
      /ttlSeconds/,
    );
  });
});

describe('mintServiceUser', () => {
  it('has no permission lists, so everything within the account is allowed, and no expiry by default', async () => {
    const user = await mintServiceUser(setup.signer, { name: 'notify' });
    const claims = decode<User>(user.jwt);
    expect(claims.name).toBe('svc-notify');
    expect(claims.nats.issuer_account).toBe(setup.account.publicKey);
    expect(claims.nats.pub).toBeUndefined();
    expect(claims.nats.sub).toBeUndefined();
    expect(claims.nats.bearer_token).toBe(false);
    expect(claims.exp).toBeUndefined();
    expect(user.expiresAt).toBeUndefined();
  });

  it('expires when told to', async () => {
    const now = new Date('2030-01-01T00:00:00Z');
    const user = await mintServiceUser(setup.signer, { name: 'intake', ttlSeconds: 60, now });
    expect(decode(user.jwt).exp).toBe(now.getTime() / 1000 + 60);
  });
});

describe('mintGatewayUser', () => {
  it('may publish and subscribe on the limit-sharing subject only: no inbox, no JetStream, no events', async () => {
    const user = await mintGatewayUser(setup.signer);
    const claims = decode<User>(user.jwt);
    expect(claims.name).toBe('svc-gateway');
    expect(claims.iss).toBe(signingPublicKey(setup));
    expect(claims.nats.issuer_account).toBe(setup.account.publicKey);
    expect(claims.nats.bearer_token).toBe(false);
    expect(claims.nats.allowed_connection_types).toEqual(['STANDARD']);
    expect(claims.nats.pub).toEqual({ allow: [GATEWAY_LIMITS_SUBJECT] });
    expect(claims.nats.sub).toEqual({ allow: [GATEWAY_LIMITS_SUBJECT] });
    expect(claims.nats.resp).toBeUndefined();
    expect(claims.exp).toBeUndefined();
  });

  it('follows a configured subject, and refuses one with a wildcard (the gateway publishes on it)', async () => {
    const claims = decode<User>((await mintGatewayUser(setup.signer, { subject: 'x.limits' })).jwt);
    expect(claims.nats.pub).toEqual({ allow: ['x.limits'] });
    expect(claims.nats.sub).toEqual({ allow: ['x.limits'] });
    for (const subject of ['beacon.>', 'beacon.*.limits', 'beacon..limits', 'beacon limits', '']) {
      expect(() => gatewayPermissions(subject), subject).toThrow(/literal subject/);
    }
  });
});

describe('mintSystemUser', () => {
  it('is signed by the system account itself, so it names no issuer account', async () => {
    const user = await mintSystemUser(setup.systemAccount, { ttlSeconds: 300 });
    const claims = decode<User>(user.jwt);
    expect(claims.iss).toBe(setup.systemAccount.publicKey);
    expect(claims.nats.issuer_account).toBeUndefined();
    expect(claims.name).toBe('sys-admin');
    expect(user.expiresAt).toBeDefined();
  });
});

describe('createOperatorSetup', () => {
  it('chains operator → accounts → signing key, with the system account named by the operator', () => {
    const operator = decode<Operator>(setup.operator.jwt);
    expect(operator.iss).toBe(setup.operator.publicKey);
    expect(operator.sub).toBe(setup.operator.publicKey);
    expect(operator.nats.system_account).toBe(setup.systemAccount.publicKey);

    const system = decode<Account>(setup.systemAccount.jwt);
    expect(system.iss).toBe(setup.operator.publicKey);
    expect(system.nats.limits?.conn).toBe(-1);

    const account = decode<Account>(setup.account.jwt);
    expect(account.iss).toBe(setup.operator.publicKey);
    expect(account.sub).toBe(setup.signer.accountPublicKey);
    expect(account.nats.signing_keys).toEqual([signingPublicKey(setup)]);
  });

  it('enables JetStream for the Beacon account and refuses bearer users', () => {
    const { limits } = decode<Account>(setup.account.jwt).nats;
    expect(limits).toMatchObject({
      disallow_bearer: true,
      conn: -1,
      subs: -1,
      mem_storage: -1,
      disk_storage: -1,
      streams: -1,
      consumer: -1,
    });
  });

  it('keeps the seeds of each identity, in their printable prefixes', () => {
    expect(setup.operator.seed).toMatch(/^SO/);
    expect(setup.systemAccount.seed).toMatch(/^SA/);
    expect(setup.account.seed).toMatch(/^SA/);
    expect(setup.signer.signingSeed).toMatch(/^SA/);
    expect(setup.signer.signingSeed).not.toBe(setup.account.seed);
  });
});

describe('signBeaconAccount', () => {
  it('re-signs the account with revocations, keeping its signing key', async () => {
    const jwt = await signBeaconAccount({
      operatorSeed: setup.operator.seed,
      name: setup.account.name,
      accountPublicKey: setup.account.publicKey,
      signingPublicKey: signingPublicKey(setup),
      revocations: { UREVOKED: 1_900_000_000 },
    });
    const claims: ClaimsData<Account> = decode<Account>(jwt);
    expect(claims.iss).toBe(setup.operator.publicKey);
    expect(claims.nats.revocations).toEqual({ UREVOKED: 1_900_000_000 });
    expect(claims.nats.signing_keys).toEqual([signingPublicKey(setup)]);
  });
});

describe('renderOperatorConfig', () => {
  it('configures operator mode with a MEMORY resolver preloaded with both accounts', () => {
    const lines = renderOperatorConfig(setup).split('\n');
    expect(lines).toContain(`operator: "${setup.operator.jwt}"`);
    expect(lines).toContain(`system_account: ${setup.systemAccount.publicKey}`);
    expect(lines).toContain('resolver: MEMORY');
    const start = lines.indexOf('resolver_preload: {');
    const end = lines.indexOf('}', start);
    expect(start).toBeGreaterThan(-1);
    expect(lines.slice(start + 1, end).filter((l) => !l.trim().startsWith('#'))).toEqual([
      `  ${setup.systemAccount.publicKey}: "${setup.systemAccount.jwt}"`,
      `  ${setup.account.publicKey}: "${setup.account.jwt}"`,
    ]);
    // Nothing about users: they are never known to the server in advance.
    expect(renderOperatorConfig(setup)).not.toMatch(
      /^\s*(users|authorization|accounts|no_auth_user)\s*[:={]/m,
    );
  });
});
