/**
 * NATS credentials for agencies' feeds: decentralised JWT auth (operator → account → user).
 *
 * Why JWTs and not a generated server config with reload: in operator mode the server trusts the
 * operator's key, not a list of users. Notify holds the Beacon account's signing key and mints a
 * user (a `.creds` file: user JWT + nkey seed) for each agency on its own; the server checks the
 * signature chain and applies the permissions written in the JWT when the agency connects. Adding
 * an agency therefore touches no server file and needs no reload, no restart and no coordination
 * between the servers of a cluster, and the key that can mint users never leaves notify. With a
 * generated `authorization { users: [...] }` config every agency change would rewrite a file on
 * every server and signal a reload, a window in which servers disagree on who may connect.
 *
 * What revocation costs: a user JWT is valid until its `exp`, whatever notify later decides. To cut
 * an agency off before that, the account JWT must list the user's key under `revocations`; only
 * the operator key can re-sign it ({@link signBeaconAccount}), and every server must get it. A
 * system-account user can push it to `$SYS.REQ.ACCOUNT.<account>.CLAIMS.UPDATE` — the `MEMORY`
 * resolver takes that too, and the server drops the revoked user's connections at once — but a
 * `MEMORY` resolver forgets the push on restart and reloads `resolver_preload`, so the config must
 * be rewritten as well. The NATS-based resolver (`resolver: { type: full }`) stores pushed JWTs
 * and is the one to move to once revocations are routine. Hence agency credentials expire
 * within hours (`exp`, {@link DEFAULT_AGENCY_TTL_SECONDS} unless told otherwise, at most a day
 * by default) and are re-issued: the expiry bounds how long a withdrawn agency can keep its
 * connection, the purge of withdrawn copies from its feed bounds what it can read with it, and
 * an explicit revocation, with the operator key, is the exception. Credentials are never bearer tokens (the account refuses bearer
 * users): a stolen JWT is useless without the seed that signs the server's connect nonce.
 *
 * What an agency user may do, exactly (see {@link agencyPermissions}): create, read and delete its
 * own named durable consumers on `BEACON_FEEDS`, only through the filtered create subject
 * `$JS.API.CONSUMER.CREATE.BEACON_FEEDS.<durable>.beacon.feed.<agencyId>.>` (the server rejects a
 * request whose `filter_subject` differs from the one in the subject, or that uses
 * `filter_subjects`, so the filter cannot reach another agency); pull from and ack on those
 * consumers; ask `$JS.API.INFO`; and receive on `_INBOX.<agencyId>.>` only, so its clients must
 * connect with that inbox prefix (and cannot read replies meant for anyone else). Nothing else:
 * no publish under `beacon.>`, no core subscription to any feed, no stream info (its
 * `subjects_filter` would list other agencies' subjects and counts), no `STREAM.MSG.GET` or
 * `DIRECT.GET` (they read any message by sequence, bypassing the consumer's filter).
 *
 * NATS wildcards match whole tokens only (`agency-a*` is a literal, not a prefix), so the durable
 * names an agency may use are enumerated in its JWT: `<agencyId>_<name>`, `feed` by default. The
 * `_` cannot appear in an agency id, so no agency's durable name can be another's.
 *
 * Known gaps (NATS 2.15, pinned by notify's `test/feed-permissions.test.ts`): the server checks neither the
 * reply subject of a pull request nor the `deliver_subject` of a consumer against the requester's
 * publish permissions (nats-server issue #8274). An agency can thus have its *own* feed messages
 * delivered to any subject of the account, where a core subscriber or a stream capturing that
 * subject receives them. It cannot read anything it could not read anyway, but it can write copies
 * of its feed into other subjects. Closing that needs agencies in accounts of their own, importing
 * their feed from the Beacon account.
 *
 * Everything here is computation: keys, JWTs and config text; nothing is read or written. It
 * lives in the platform because notify mints agencies' users with it and the test kit sets up the
 * local stack's operator-mode NATS with it.
 */
import {
  encodeAccount,
  encodeOperator,
  encodeUser,
  fmtCreds,
  type Account,
  type OperatorLimits,
  type User,
} from '@nats-io/jwt';
import { createAccount, createOperator, createUser, fromSeed, type KeyPair } from '@nats-io/nkeys';

/** The stream holding every agency's feed. */
export const FEEDS_STREAM = 'BEACON_FEEDS';

/** Root of the feed subjects: `beacon.feed.<agencyId>.<incidentId>.<label>.<domain>.<event>`. */
export const FEED_SUBJECT_ROOT = 'beacon.feed';

/**
 * How long agency credentials stay valid unless the caller says otherwise: eight hours, a
 * working shift. Short because a credential cannot be taken back cheaply (see above), and
 * because an agency's access follows its engagement and clearance: a withdrawal purges the
 * copies its feed retained, so an old credential finds nothing withdrawn to re-read, and
 * whatever else the agency loses, it loses within hours. Agencies re-issue credentials
 * (`IssueFeedCredentials`) before they expire.
 */
export const DEFAULT_AGENCY_TTL_SECONDS = 8 * 3600;

/** The durable name every agency may use unless more are listed. */
export const DEFAULT_CONSUMER = 'feed';

/**
 * An agency id must be one subject token and usable inside a durable name: lower-case letters,
 * digits and hyphens, as the agency registry's `AGENCY_ID_PATTERN` allows. No `_` (it separates
 * the agency from the consumer name), no `.`, no wildcards.
 */
const AGENCY_ID = /^[a-z0-9][a-z0-9-]{0,62}$/;
const CONSUMER_NAME = /^[a-z0-9](?:[a-z0-9-]{0,30}[a-z0-9])?$/;

/**
 * Account limits that limit nothing. The server reads an absent limit as zero, so an account JWT
 * without them admits no connection at all ("maximum account active connections exceeded").
 */
const UNLIMITED = {
  subs: -1,
  data: -1,
  payload: -1,
  imports: -1,
  exports: -1,
  wildcards: true,
  conn: -1,
  leaf: -1,
} as const satisfies OperatorLimits;

/** An nkey, public half and seed, both in their printable encodings. */
export interface NatsKey {
  readonly publicKey: string;
  /** Secret. `SO…`, `SA…` or `SU…`. */
  readonly seed: string;
}

/** An operator or account: its identity key and the JWT describing it. */
export interface NatsEntity extends NatsKey {
  readonly name: string;
  readonly jwt: string;
}

/**
 * The key that signs users of an account: for the Beacon account a signing key listed in the
 * account JWT's `signing_keys` (so it can be replaced without re-creating the account).
 */
export interface AccountSigner {
  /** The account users belong to (`issuer_account` of every user JWT signed by a signing key). */
  readonly accountPublicKey: string;
  /** Secret: the signing key's seed (`SA…`). */
  readonly signingSeed: string;
}

/**
 * What it takes to run a Beacon NATS deployment in operator mode: the operator (whose key signs
 * accounts), the system account, and the Beacon account every service and agency connects to.
 */
export interface OperatorSetup {
  readonly operator: NatsEntity;
  readonly systemAccount: NatsEntity;
  readonly account: NatsEntity;
  /** What notify keeps to mint users; neither the operator's nor the account's seed is needed. */
  readonly signer: AccountSigner;
}

export interface OperatorSetupOptions {
  readonly operatorName?: string;
  readonly accountName?: string;
}

/**
 * Creates fresh operator, system-account, Beacon-account and account-signing keys and signs
 * their JWTs. For the local stack and tests; a production deployment creates these once, keeps
 * the operator seed offline and gives notify only {@link OperatorSetup.signer}.
 */
export async function createOperatorSetup(options: OperatorSetupOptions = {}): Promise<OperatorSetup> {
  const operatorName = options.operatorName ?? 'beacon';
  const accountName = options.accountName ?? 'BEACON';
  const operatorKey = createOperator();
  const systemKey = createAccount();
  const accountKey = createAccount();
  const signingKey = createAccount();

  const operator = entity(
    operatorName,
    operatorKey,
    await encodeOperator(operatorName, operatorKey, { system_account: systemKey.getPublicKey() }),
  );
  const systemAccount = entity(
    'SYS',
    systemKey,
    await encodeAccount('SYS', systemKey, { limits: UNLIMITED }, { signer: operatorKey }),
  );
  const account = entity(
    accountName,
    accountKey,
    await signBeaconAccount({
      operatorSeed: operator.seed,
      name: accountName,
      accountPublicKey: accountKey.getPublicKey(),
      signingPublicKey: signingKey.getPublicKey(),
    }),
  );
  return {
    operator,
    systemAccount,
    account,
    signer: { accountPublicKey: account.publicKey, signingSeed: seedOf(signingKey) },
  };
}

export interface BeaconAccountOptions {
  /** Secret: the operator's seed (`SO…`); only the operator may sign accounts. */
  readonly operatorSeed: string;
  readonly name: string;
  readonly accountPublicKey: string;
  /** The key notify signs users with. */
  readonly signingPublicKey: string;
  /**
   * Revoked users: user public key (or `*` for every user) → Unix seconds; a JWT of that user
   * issued at or before that second is refused and its connections are closed.
   */
  readonly revocations?: Readonly<Record<string, number>>;
}

/**
 * Signs the Beacon account's JWT: JetStream enabled without account-level limits (streams carry
 * their own), users signed only by the listed signing key, bearer users refused outright.
 * Re-signing it with `revocations` is how a user is cut off before its JWT expires.
 */
export async function signBeaconAccount(options: BeaconAccountOptions): Promise<string> {
  const claims: Partial<Account> = {
    signing_keys: [options.signingPublicKey],
    limits: {
      ...UNLIMITED,
      // The server reads this flag from the limits; at the top level of the claims it is ignored.
      disallow_bearer: true,
      // Any non-zero storage limit enables JetStream for the account; -1 is unlimited.
      mem_storage: -1,
      disk_storage: -1,
      streams: -1,
      consumer: -1,
    },
    ...(options.revocations === undefined ? {} : { revocations: { ...options.revocations } }),
  };
  return encodeAccount(options.name, options.accountPublicKey, claims, {
    signer: fromSeed(new TextEncoder().encode(options.operatorSeed)),
  });
}

/**
 * The operator-mode part of a nats-server config: the operator JWT, the system account, and the
 * `MEMORY` resolver preloaded with the account JWTs. Listen addresses and the `jetstream` block
 * stay with whoever runs the server; this text is appended to (or `include`d by) that config.
 */
export function renderOperatorConfig(
  setup: Pick<OperatorSetup, 'operator' | 'systemAccount' | 'account'>,
): string {
  const preload = [setup.systemAccount, setup.account]
    .map((account) => `  # ${account.name}\n  ${account.publicKey}: ${JSON.stringify(account.jwt)}`)
    .join('\n');
  return [
    `# Operator mode: users are JWTs signed by an account signing key; nothing per user lives here.`,
    `operator: ${JSON.stringify(setup.operator.jwt)}`,
    `system_account: ${setup.systemAccount.publicKey}`,
    `resolver: MEMORY`,
    `resolver_preload: {`,
    preload,
    `}`,
    ``,
  ].join('\n');
}

/** A user's credentials as a client needs them. */
export interface UserCredentials {
  /** Public key of the user (`U…`): what a revocation names. */
  readonly publicKey: string;
  readonly jwt: string;
  /** Secret. The `.creds` file text: the JWT and the user's seed. */
  readonly creds: string;
  /** When the server stops accepting the JWT; undefined for service users without expiry. */
  readonly expiresAt: Date | undefined;
}

export interface ServiceUserOptions {
  /** Shown in the server's connection list, e.g. `notify`, `intake`. */
  readonly name: string;
  /** Seconds until the JWT expires; service credentials do not expire unless told to. */
  readonly ttlSeconds?: number;
  readonly now?: Date;
}

/**
 * The core subject the gateway's replicas share their rate limits on (`RATE_LIMIT_SUBJECT`
 * unless set otherwise). No stream captures it.
 */
export const GATEWAY_LIMITS_SUBJECT = 'beacon.gateway.limits';

export interface GatewayUserOptions extends Omit<ServiceUserOptions, 'name'> {
  /** Shown in the server's connection list as `svc-<name>`; default `gateway`. */
  readonly name?: string;
  /** The gateway's `RATE_LIMIT_SUBJECT`; default {@link GATEWAY_LIMITS_SUBJECT}. */
  readonly subject?: string;
}

/**
 * A user for the gateway, the one Beacon process at the public door: it only shares its rate
 * limits among its replicas, so it may publish and subscribe on that one subject and nothing
 * else (see {@link gatewayPermissions}). A compromised gateway can neither read an event or a
 * feed nor publish one, nor touch JetStream.
 */
export async function mintGatewayUser(
  signer: AccountSigner,
  options: GatewayUserOptions = {},
): Promise<UserCredentials> {
  return mint(
    signer,
    `svc-${options.name ?? 'gateway'}`,
    { ...gatewayPermissions(options.subject), allowed_connection_types: ['STANDARD'] },
    options.ttlSeconds,
    options.now,
  );
}

/**
 * The gateway user's permissions, exactly: publish and subscribe on the limit-sharing subject.
 * No inbox: the gateway makes no requests, so it needs no replies (and may not read anyone's).
 * The subject must be a literal one (no wildcard), as the gateway publishes on it.
 */
export function gatewayPermissions(subject: string = GATEWAY_LIMITS_SUBJECT): UserPermissions {
  if (!LITERAL_SUBJECT.test(subject)) {
    throw new Error(
      `the gateway's limit-sharing subject ${JSON.stringify(subject)} must be a literal subject: ` +
        'dot-separated tokens without wildcards or spaces',
    );
  }
  return { pub: { allow: [subject] }, sub: { allow: [subject] } };
}

/** Dot-separated tokens of printable characters other than the wildcards `*` and `>`. */
const LITERAL_SUBJECT = /^[^\s.*>]+(?:\.[^\s.*>]+)*$/;

/** A user for Beacon's own services: everything within the Beacon account is allowed. */
export async function mintServiceUser(
  signer: AccountSigner,
  options: ServiceUserOptions,
): Promise<UserCredentials> {
  return mint(signer, `svc-${options.name}`, {}, options.ttlSeconds, options.now);
}

/**
 * A user of the system account, for operators' tools: pushing a re-signed account JWT (a
 * revocation) to `$SYS.REQ.ACCOUNT.<account>.CLAIMS.UPDATE`. Needs the system account's seed,
 * which notify does not hold.
 */
export async function mintSystemUser(
  systemAccount: Pick<NatsEntity, 'publicKey' | 'seed'>,
  options: Omit<ServiceUserOptions, 'name'> & { readonly name?: string } = {},
): Promise<UserCredentials> {
  const signer = { accountPublicKey: systemAccount.publicKey, signingSeed: systemAccount.seed };
  return mint(signer, `sys-${options.name ?? 'admin'}`, {}, options.ttlSeconds, options.now);
}

export interface AgencyUserOptions {
  readonly agencyId: string;
  /**
   * Durable consumer names the agency may use, without the agency prefix (`feed` gives the
   * durable `<agencyId>_feed`). Default: `[feed]`.
   */
  readonly consumers?: readonly string[];
  /** Seconds until the JWT expires; default {@link DEFAULT_AGENCY_TTL_SECONDS}. */
  readonly ttlSeconds?: number;
  readonly now?: Date;
}

/** A user that can consume its agency's own feed and nothing else; see {@link agencyPermissions}. */
export async function mintAgencyUser(
  signer: AccountSigner,
  options: AgencyUserOptions,
): Promise<UserCredentials> {
  const permissions = agencyPermissions(options.agencyId, options.consumers);
  return mint(
    signer,
    `agency-${options.agencyId}`,
    // Plain NATS connections only: no websocket, MQTT or leaf node with rules of their own.
    { ...permissions, allowed_connection_types: ['STANDARD'] },
    options.ttlSeconds ?? DEFAULT_AGENCY_TTL_SECONDS,
    options.now,
  );
}

/** Publish and subscribe allow-lists of a user; everything not listed is denied. */
export interface UserPermissions {
  readonly pub: { readonly allow: string[] };
  readonly sub: { readonly allow: string[] };
}

/** Publish and subscribe allow-lists of an agency user; everything not listed is denied. */
export type AgencyPermissions = UserPermissions;

/**
 * The permissions of an agency user, exactly. For each durable `<agencyId>_<name>`:
 * - `$JS.API.CONSUMER.CREATE.BEACON_FEEDS.<durable>.beacon.feed.<agencyId>.>`: create or update
 *   it, only with a filter inside the agency's feed (the server matches the request's
 *   `filter_subject` against the subject's; a create without a filter uses another subject);
 * - `$JS.API.CONSUMER.INFO.BEACON_FEEDS.<durable>` and `….DELETE.…`: read and delete it;
 * - `$JS.API.CONSUMER.MSG.NEXT.BEACON_FEEDS.<durable>`: pull (fetch / consume);
 * - `$JS.ACK.BEACON_FEEDS.<durable>.>`: ack, nak, term, in-progress of what it received;
 *
 * plus `$JS.API.INFO` (clients check JetStream with it), `beacon.ack.<agencyId>.>` (acknowledging
 * an engagement by request, answered by notify: the subject names the agency, so the server's
 * permission check is what proves who acknowledges) and, for subscriptions, only its own inbox
 * space `_INBOX.<agencyId>.>`, where JetStream's replies and pulled messages arrive.
 */
export function agencyPermissions(
  agencyId: string,
  consumers: readonly string[] = [DEFAULT_CONSUMER],
): AgencyPermissions {
  if (consumers.length === 0) throw new Error('an agency needs at least one consumer name');
  const filter = agencyFeedFilter(agencyId);
  const durables = [...new Set(consumers)].map((name) => agencyConsumerName(agencyId, name));
  return {
    pub: {
      allow: [
        '$JS.API.INFO',
        agencyAckSubjects(agencyId),
        ...durables.flatMap((durable) => [
          `$JS.API.CONSUMER.CREATE.${FEEDS_STREAM}.${durable}.${filter}`,
          `$JS.API.CONSUMER.INFO.${FEEDS_STREAM}.${durable}`,
          `$JS.API.CONSUMER.DELETE.${FEEDS_STREAM}.${durable}`,
          `$JS.API.CONSUMER.MSG.NEXT.${FEEDS_STREAM}.${durable}`,
          `$JS.ACK.${FEEDS_STREAM}.${durable}.>`,
        ]),
      ],
    },
    sub: { allow: [`${agencyInboxPrefix(agencyId)}.>`] },
  };
}

/** Where an agency acknowledges engagements: `beacon.ack.<agencyId>.<incidentId>`. */
export function agencyAckSubjects(agencyId: string): string {
  return `${ACK_SUBJECT_ROOT}.${checkAgencyId(agencyId)}.>`;
}

/** The subject root of acknowledgements by request. */
export const ACK_SUBJECT_ROOT = 'beacon.ack';

/** The feed subjects of one agency, as a consumer filter: `beacon.feed.<agencyId>.>`. */
export function agencyFeedFilter(agencyId: string): string {
  return `${FEED_SUBJECT_ROOT}.${checkAgencyId(agencyId)}.>`;
}

/** The inbox prefix an agency's client must connect with (`inboxPrefix` option of nats.js). */
export function agencyInboxPrefix(agencyId: string): string {
  return `_INBOX.${checkAgencyId(agencyId)}`;
}

/** The durable name of one of an agency's consumers: `<agencyId>_<name>`. */
export function agencyConsumerName(agencyId: string, name: string = DEFAULT_CONSUMER): string {
  if (!CONSUMER_NAME.test(name)) {
    throw new Error(
      `consumer name ${JSON.stringify(name)} must be lower-case letters, digits and inner hyphens (at most 32)`,
    );
  }
  return `${checkAgencyId(agencyId)}_${name}`;
}

function checkAgencyId(agencyId: string): string {
  if (!AGENCY_ID.test(agencyId)) {
    throw new Error(
      `agency id ${JSON.stringify(agencyId)} cannot name NATS subjects and consumers: ` +
        'use lower-case letters, digits and hyphens (at most 63)',
    );
  }
  return agencyId;
}

async function mint(
  signer: AccountSigner,
  name: string,
  claims: Partial<User>,
  ttlSeconds: number | undefined,
  now: Date = new Date(),
): Promise<UserCredentials> {
  if (ttlSeconds !== undefined && !(Number.isInteger(ttlSeconds) && ttlSeconds > 0)) {
    throw new Error(`ttlSeconds must be a positive whole number, got ${ttlSeconds}`);
  }
  const exp = ttlSeconds === undefined ? undefined : Math.floor(now.getTime() / 1000) + ttlSeconds;
  const userKey = createUser();
  const signingKey = fromSeed(new TextEncoder().encode(signer.signingSeed));
  // Signed by a signing key, the JWT names its account in `issuer_account`; signed by the
  // account's own key (system users), it must not, or the server looks for a signing key.
  const bySigningKey = signingKey.getPublicKey() !== signer.accountPublicKey;
  const jwt = await encodeUser(
    name,
    userKey,
    bySigningKey ? signer.accountPublicKey : signingKey,
    { ...claims, bearer_token: false },
    { ...(bySigningKey ? { signer: signingKey } : {}), ...(exp === undefined ? {} : { exp }) },
  );
  return {
    publicKey: userKey.getPublicKey(),
    jwt,
    creds: new TextDecoder().decode(fmtCreds(jwt, userKey)),
    expiresAt: exp === undefined ? undefined : new Date(exp * 1000),
  };
}

function entity(name: string, key: KeyPair, jwt: string): NatsEntity {
  return { name, publicKey: key.getPublicKey(), seed: seedOf(key), jwt };
}

function seedOf(key: KeyPair): string {
  return new TextDecoder().decode(key.getSeed());
}
