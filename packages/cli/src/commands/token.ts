import { readFile } from 'node:fs/promises';
import { parseTlp, PROCESS_SCOPES, type BeaconProcess } from '@beacon/domain';
import type { DevIssuer, Role } from '@beacon/platform';
import { valueOptions } from '../command-kinds.js';
import { integerFlag, jsonText, type Command, type Context } from '../context.js';
import { CliError, UsageError } from '../io.js';
import { ROLES, rolesHelp } from '../roles.js';

/** Where `make up` leaves the local stack's development issuer, from the repository root. */
export const DEFAULT_ISSUER_FILE = '.infra/dev/dev-issuer.json';

/** Roles that act for the coordination centre or Beacon itself rather than for one agency. */
const CENTRAL_ROLES: readonly string[] = ['coordinator', 'auditor', 'service'];

/**
 * The longest token the command mints, for people and service identities alike: 12 hours, the
 * longest the services accept by default (AUTH_MAX_TOKEN_LIFETIME_SECONDS).
 */
const MAX_TTL_SECONDS = 12 * 3600;

/** The same shape the platform's token verifier accepts for `agency_id`. */
const AGENCY_ID = /^[a-z0-9][a-z0-9-]{0,62}$/;

/** The contents of a dev issuer file: enough to re-create the issuer the local stack trusts. */
export interface IssuerFile {
  readonly issuer: string;
  readonly audience: string;
  /** The audience of service identities; the platform's default when the file names none. */
  readonly serviceAudience?: string;
  readonly privateJwk: DevIssuer['privateJwk'];
}

export const tokenCommand: Command = {
  name: 'token',
  routes: [],
  synopsis:
    '--roles ROLE[,ROLE] [--agency ID] [--clearance TLP] [--ttl SECONDS] [--subject NAME] ' +
    '[--issuer-file FILE]',
  summary:
    'mint a development token (at most 12 h) from the local dev issuer; prints the JWT. ' +
    'A development tool: refused with BEACON_ENV=production',
  roles: ROLES.none,
  get details() {
    return `--roles takes one or more of these, comma-separated:
${rolesHelp()}
Agency roles and victim_officer need --agency (the agency or organisation id). --clearance is
the highest TLP label the token reads (CLEAR, GREEN, AMBER, AMBER+STRICT, RED; AMBER when not
given). The issuer is .infra/dev/dev-issuer.json under the working directory, which \`make up\`
writes (or --issuer-file / BEACON_DEV_ISSUER_FILE). Examples:
  beacon token --roles coordinator --clearance RED
  beacon token --roles agency_admin --agency cert-bayern --clearance RED
  export BEACON_TOKEN=$(beacon token --roles agency_analyst --agency cert-bayern)`;
  },
  options: {
    ...valueOptions('roles', 'agency', 'clearance', 'ttl', 'subject', 'issuer-file'),
  },
  args: [],
  run: mintToken,
};

async function mintToken(context: Context): Promise<number> {
  const { io } = context;
  // Loaded only here: the platform package brings MongoDB, NATS and gRPC clients with it.
  const { ROLES, beaconEnvFrom, ConfigError, createDevIssuer } = await import('@beacon/platform');
  let deployment: string;
  try {
    deployment = beaconEnvFrom(io.env);
  } catch (error) {
    if (error instanceof ConfigError) throw new UsageError('BEACON_ENV must be development or production');
    throw error;
  }
  // A real deployment's tokens come from its identity provider, never from a key on disk.
  if (deployment !== 'development') {
    throw new UsageError(
      'beacon token is a development tool, refused with BEACON_ENV=production: ' +
        "get a token from the deployment's identity provider",
    );
  }
  const rolesText = context.string('roles');
  if (!rolesText) throw new UsageError('--roles is required, e.g. --roles coordinator');
  const isRole = (role: string): role is Role => (ROLES as readonly string[]).includes(role);
  const roles = [...new Set(rolesText.split(',').map((r) => r.trim()))].filter((r) => r !== '');
  const unknown = roles.filter((r) => !isRole(r));
  if (roles.length === 0 || unknown.length > 0) {
    throw new UsageError(`unknown role "${unknown.join(', ')}"; roles are ${ROLES.join(', ')}`);
  }
  // A service identity is that and nothing else (the platform refuses `service` beside a
  // person's roles); its token carries the internal audience, which the gateway refuses.
  if (roles.includes('service') && roles.length > 1) {
    throw new UsageError('--roles service stands alone: a service identity has no other role');
  }
  const agencyId = context.string('agency');
  if (agencyId !== undefined && !AGENCY_ID.test(agencyId)) {
    throw new UsageError(`--agency must be a lowercase agency id such as cert-de, not "${agencyId}"`);
  }
  if (!agencyId && roles.some((r) => !CENTRAL_ROLES.includes(r))) {
    throw new UsageError('agency roles need --agency (the gateway refuses them without an agency)');
  }
  const clearanceText = context.string('clearance') ?? 'AMBER';
  const clearance = parseTlp(clearanceText);
  if (!clearance)
    throw new UsageError(`--clearance must be a TLP label such as AMBER, not "${clearanceText}"`);
  const ttlSeconds = integerFlag('ttl', context.string('ttl') ?? '3600', 1, MAX_TTL_SECONDS);
  const subject = context.string('subject') ?? defaultSubject(io.env);
  if (subject.length > 200) throw new UsageError('--subject is longer than 200 characters');
  // A service identity is one Beacon process and carries that process's scopes, no more.
  const isProcess = (name: string): name is BeaconProcess => Object.hasOwn(PROCESS_SCOPES, name);
  if (roles.includes('service') && !isProcess(subject)) {
    throw new UsageError(
      `a service identity is one Beacon process: --subject ${Object.keys(PROCESS_SCOPES).join(', ')}`,
    );
  }

  const file = context.path(
    context.string('issuer-file') ?? io.env['BEACON_DEV_ISSUER_FILE'] ?? DEFAULT_ISSUER_FILE,
  );
  const issuer = await createDevIssuer(await readIssuerFile(file));
  const token = await issuer.mint({
    subject,
    roles: roles.filter(isRole),
    clearance,
    ttlSeconds,
    ...(agencyId ? { agencyId } : {}),
    ...(isProcess(subject) && roles.includes('service') ? { scopes: PROCESS_SCOPES[subject] } : {}),
  });
  io.stdout.write(context.json ? jsonText({ token }) : `${token}\n`);
  return 0;
}

/** Who the token names when --subject is not given: the local user, so audit trails say who. */
function defaultSubject(env: Readonly<Record<string, string | undefined>>): string {
  const user = env['USER'] ?? env['USERNAME'];
  return user ? `cli:${user}` : 'cli';
}

/** Reads and checks a dev issuer file; its absence is explained, since `make up` writes it. */
export async function readIssuerFile(file: string): Promise<IssuerFile> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new CliError(
      code === 'ENOENT'
        ? `no development issuer at ${file}: ` +
            'run `make up`, or pass --issuer-file / set BEACON_DEV_ISSUER_FILE'
        : `cannot read ${file}: ${code ?? String(error)}`,
    );
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new CliError(`${file} is not JSON: ${(error as Error).message}`);
  }
  const value = parsed as Partial<Record<keyof IssuerFile, unknown>> | null;
  const jwk = value?.privateJwk as IssuerFile['privateJwk'] | undefined;
  if (
    typeof value?.issuer !== 'string' ||
    typeof value.audience !== 'string' ||
    typeof jwk !== 'object' ||
    jwk === null ||
    typeof jwk.d !== 'string'
  ) {
    throw new CliError(
      `${file} is not a dev issuer file: expected { issuer, audience, privateJwk (with "d") }`,
    );
  }
  if (value.serviceAudience !== undefined && typeof value.serviceAudience !== 'string') {
    throw new CliError(`${file} is not a dev issuer file: "serviceAudience" must be a string`);
  }
  return {
    issuer: value.issuer,
    audience: value.audience,
    ...(value.serviceAudience === undefined ? {} : { serviceAudience: value.serviceAudience }),
    privateJwk: jwk,
  };
}
