import { execFile } from 'node:child_process';
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { jetstreamManager } from '@nats-io/jetstream';
import { credsAuthenticator } from '@nats-io/nats-core';
import { connect } from '@nats-io/transport-node';
import { describe, expect } from 'vitest';
import {
  agencyFeedFilter,
  createOperatorSetup,
  FEED_SUBJECT_ROOT,
  FEEDS_STREAM,
  mintServiceUser,
  renderOperatorConfig,
  type OperatorSetup,
} from '@beacon/platform';
import {
  installedBinary,
  repoRoot,
  startDedicated,
  test as base,
  testNames,
  waitFor,
  type DedicatedServer,
} from '@beacon/testkit';
import { agency, call, startStack, subscription, type Stack } from './harness.js';

/**
 * The README's walkthrough ("How agencies hear of incidents"), run with the official `nats`
 * command line client (natscli, installed by `make install`): an agency admin issues its feed
 * credentials through the gateway's REST door, saves them owner-only, and reads its own feed
 * with the very commands the README prints; the same credentials are refused another agency's
 * subjects, and a connection without them is refused outright. NATS runs in operator mode with
 * the production stream and subjects, as `make up` runs it, and intake and notify each connect
 * with a user of their own, so the incidents come from real reports through intake and notify's
 * fan-out.
 */

const OWN = 'cert-bayern';
const OTHER = 'lka-bayern';

/** The README's commands for one agency, each one shell line run in the directory of its `.creds`. */
const walkthrough = (id: string) => ({
  context: `nats context save ${id} --creds "$PWD/agency.creds" --inbox-prefix _INBOX.${id}`,
  consumer:
    `nats --context ${id} request '$JS.API.CONSUMER.CREATE.BEACON_FEEDS.${id}_feed.beacon.feed.${id}.>' ` +
    `'{"stream_name":"BEACON_FEEDS","config":{"durable_name":"${id}_feed","filter_subject":"beacon.feed.${id}.>","ack_policy":"explicit"}}'`,
  info: `nats --context ${id} consumer info BEACON_FEEDS ${id}_feed`,
  next: `nats --context ${id} consumer next BEACON_FEEDS ${id}_feed --count 1`,
});
/** What the README shows being refused to cert-bayern's credentials, and to none at all. */
const refused = {
  otherConsumer: `nats --context ${OWN} consumer next BEACON_FEEDS ${OTHER}_feed --count 1`,
  otherSubjects: `nats --context ${OWN} subscribe 'beacon.feed.${OTHER}.>' --count 1`,
  anonymous: `nats consumer info BEACON_FEEDS ${OWN}_feed`,
};

interface Ran {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Runs one shell line with the installed `nats` first on PATH, in `dir` (also its HOME, so its
 * saved contexts are this test's only), against `url`. Resolves whatever the exit code.
 */
function shell(line: string, dir: string, url: string): Promise<Ran> {
  const env = {
    PATH: `${dirname(installedBinary('nats'))}:${process.env['PATH'] ?? ''}`,
    HOME: dir,
    XDG_CONFIG_HOME: join(dir, '.config'),
    NATS_URL: url,
  };
  return new Promise((resolve) => {
    execFile('bash', ['-c', line], { cwd: dir, env, timeout: 30_000 }, (error, stdout, stderr) =>
      resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
    );
  });
}

interface Scene {
  readonly stack: Stack;
  /** Each agency's directory holding its `agency.creds`, as an agency admin saved it. */
  readonly dirs: Readonly<Record<string, string>>;
  /** The incident each agency's own report opened. */
  readonly incidents: Readonly<Record<string, string>>;
}

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
          authenticator: credsAuthenticator(new TextEncoder().encode(probe.creds)),
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
  })
  .extend('scene', { scope: 'file' }, async ({ infra, operator, server }, { onCleanup }): Promise<Scene> => {
    const names = testNames();
    const dir = join(server.process.spec.logFile, '..');
    const secret = (file: string, text: string) => {
      writeFileSync(join(dir, file), text, { mode: 0o600 });
      return join(dir, file);
    };
    const natsUser = async (name: string) => ({
      NATS_URL: server.url,
      NATS_CREDS_FILE: secret(`${name}.creds`, (await mintServiceUser(operator.signer, { name })).creds),
    });
    const stack = await startStack(
      infra,
      names,
      {
        ...(await natsUser('notify')),
        NATS_ACCOUNT_SIGNER_FILE: secret('signer.json', JSON.stringify(operator.signer)),
        // Agencies' permissions name the production stream and subjects; the server is ours alone.
        FEEDS_STREAM,
        FEEDS_SUBJECT_ROOT: FEED_SUBJECT_ROOT,
      },
      await natsUser('intake'),
    );
    onCleanup(() => stack.stop());

    const cc = await stack.token(['coordinator']);
    const dirs: Record<string, string> = {};
    const incidents: Record<string, string> = {};
    for (const id of [OWN, OTHER]) {
      await call(stack.notifyClient, 'putAgency', { agency: agency(id, 'RED'), expectedVersion: 0 }, cc);
      await call(
        stack.notifyClient,
        'putSubscription',
        { subscription: subscription(id, 'opened', { eventTypes: ['incident.opened'] }) },
        cc,
      );
      // Each agency reports an AMBER incident of its own: its feed holds it, the other's does not.
      const report = await rest(stack, `/v1/reports`, await stack.token(['agency_analyst'], id), {
        title: `Outage seen by ${id}`,
        tlp: 'TLP_AMBER',
        classification: { rsitClass: 'availability', rsitType: 'outage' },
        sectors: ['energy'],
        jurisdictions: ['DE-BY'],
        observables: [{ type: 'domain', value: `c2.${id}.example` }],
        awareAt: new Date(Date.now() - 3_600_000).toISOString(),
      });
      incidents[id] = (report['incident'] as { id: string }).id;

      // The README's first step: the agency's admin issues its credentials through the REST door.
      const issued = await rest(
        stack,
        `/v1/agencies/${id}:issueFeedCredentials`,
        await stack.token(['agency_admin'], id),
        {},
      );
      dirs[id] = join(dir, id);
      mkdirSync(dirs[id], { mode: 0o700 });
      writeFileSync(join(dirs[id], 'agency.creds'), issued['creds'] as string, { mode: 0o600 });
    }
    expect(incidents[OWN]).not.toBe(incidents[OTHER]);
    return { stack, dirs, incidents };
  });

async function rest(t: Stack, path: string, token: string, body: unknown): Promise<Record<string, unknown>> {
  const response = await fetch(`${t.http}${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const json = (await response.json()) as Record<string, unknown>;
  if (!response.ok) throw new Error(`${path} answered ${response.status}: ${JSON.stringify(json)}`);
  return json;
}

/**
 * The README's walkthrough for one agency: save the context, make the consumer, wait until
 * `consumer info` counts the incident, fetch it. Returns what `consumer next` printed.
 */
async function readOwnFeed(scene: Scene, server: DedicatedServer, id: string): Promise<string> {
  const steps = walkthrough(id);
  const run = (line: string) => shell(line, scene.dirs[id]!, server.url);
  expect(await run(steps.context)).toMatchObject({ code: 0 });
  const created = await run(steps.consumer);
  expect(created.stdout).toContain('"type":"io.nats.jetstream.api.v1.consumer_create_response"');
  expect(created.stdout).toContain(`"filter_subject":"beacon.feed.${id}.\\u003e"`);
  expect(created.stdout).not.toContain('"error"');
  // Notify fans the report's incident out asynchronously; the consumer counts it once it is in.
  await waitFor(
    async () => {
      const info = await run(steps.info);
      expect(info.code).toBe(0);
      expect(info.stdout).toMatch(/Unprocessed Messages: 1\n/);
    },
    { what: `${id}'s incident in its feed`, timeoutMs: 20_000, intervalMs: 200 },
  );
  const next = await run(steps.next);
  expect(next.stderr).toBe('');
  expect(next.code).toBe(0);
  return next.stdout;
}

describe('an agency reads its feed with the nats CLI, as the README shows', () => {
  test('the README prints the commands this test runs', () => {
    // Line continuations joined, so a command wrapped in the README still matches.
    const readme = readFileSync(join(repoRoot, 'README.md'), 'utf8').replace(/\\\n\s*/g, '');
    for (const line of [...Object.values(walkthrough(OWN)), ...Object.values(refused)]) {
      expect(readme.includes(line), `README.md lacks: ${line}`).toBe(true);
    }
  });

  test('with the .creds notify issued, the CLI reads the agency’s own incident from its feed', async ({
    scene,
    server,
  }) => {
    const creds = join(scene.dirs[OWN]!, 'agency.creds');
    expect(statSync(creds).mode & 0o777).toBe(0o600);
    expect(readFileSync(creds, 'utf8')).toContain('-----BEGIN NATS USER JWT-----');

    const printed = await readOwnFeed(scene, server, OWN);
    expect(printed).toContain(
      `subj: beacon.feed.${OWN}.${scene.incidents[OWN]}.amber.incident.opened / tries: 1`,
    );
    expect(printed).toMatch(/Beacon-Event-Type: incident\.opened\n/);
    expect(printed).toContain('Acknowledged message');
    expect(printed).not.toContain(scene.incidents[OTHER]);
  });

  test('the same credentials are refused another agency’s consumer, filter and subjects, while that agency reads its own', async ({
    scene,
    server,
  }) => {
    const run = (line: string) => shell(line, scene.dirs[OWN]!, server.url);
    expect(await run(walkthrough(OWN).context)).toMatchObject({ code: 0 });
    const other = walkthrough(OTHER);
    // Each refusal is the server's own permissions violation; they run side by side because a
    // refused request leaves the CLI waiting out its timeout (5 s).
    const [consumer, subjects, creation, ownDurable] = await Promise.all([
      run(refused.otherConsumer),
      run(refused.otherSubjects),
      // The other agency's own consumer request, and cert-bayern's durable filtered to the other's feed.
      run(other.consumer.replace(`--context ${OTHER}`, `--context ${OWN}`)),
      run(
        walkthrough(OWN).consumer.replace(
          `.${OWN}_feed.beacon.feed.${OWN}.>`,
          `.${OWN}_feed.beacon.feed.${OTHER}.>`,
        ),
      ),
    ]);
    expect(consumer.code).not.toBe(0);
    expect(consumer.stderr).toContain(
      `Permissions Violation for Publish to "$JS.API.CONSUMER.INFO.BEACON_FEEDS.${OTHER}_feed"`,
    );
    expect(consumer.stdout).not.toContain(scene.incidents[OTHER]);
    expect(subjects.code).not.toBe(0);
    expect(subjects.stderr).toContain(`Permissions Violation for Subscription to "beacon.feed.${OTHER}.>"`);
    expect(subjects.stdout).not.toContain(scene.incidents[OTHER]);
    expect(creation.stderr).toContain(
      `Permissions Violation for Publish to "$JS.API.CONSUMER.CREATE.BEACON_FEEDS.${OTHER}_feed.${agencyFeedFilter(OTHER)}"`,
    );
    expect(creation.stdout).not.toContain('consumer_create_response');
    expect(ownDurable.stderr).toContain(
      `Permissions Violation for Publish to "$JS.API.CONSUMER.CREATE.BEACON_FEEDS.${OWN}_feed.${agencyFeedFilter(OTHER)}"`,
    );
    expect(ownDurable.stdout).not.toContain('consumer_create_response');

    // The refusals are about whose credentials these are: the other agency, with its own, reads
    // exactly what cert-bayern was refused.
    const printed = await readOwnFeed(scene, server, OTHER);
    expect(printed).toContain(
      `subj: beacon.feed.${OTHER}.${scene.incidents[OTHER]}.amber.incident.opened / tries: 1`,
    );
  });

  test('without credentials the CLI is refused at connect; with them the same command answers', async ({
    scene,
    server,
  }) => {
    const run = (line: string) => shell(line, scene.dirs[OWN]!, server.url);
    const anonymous = await run(refused.anonymous);
    expect(anonymous.code).not.toBe(0);
    expect(anonymous.stderr).toContain('nats: Authorization Violation');
    expect(anonymous.stdout).toBe('');

    const steps = walkthrough(OWN);
    expect(await run(steps.context)).toMatchObject({ code: 0 });
    expect(await run(steps.consumer)).toMatchObject({ code: 0 });
    const info = await run(steps.info);
    expect(info.code).toBe(0);
    expect(info.stdout).toContain(`Filter Subject: ${agencyFeedFilter(OWN)}`);
  });
});
