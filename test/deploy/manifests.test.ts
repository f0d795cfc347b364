import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig as gatewayConfig } from '@beacon/gateway';
import { GATEWAY_LIMITS_SUBJECT } from '@beacon/platform';
import {
  byKind,
  render,
  selects,
  TARGETS,
  validate,
  variablesReadBy,
  type Container,
  type Deployment,
  type K8sObject,
  type NetworkPolicy,
  type NetworkPolicyPeer,
  type Target,
} from './manifests.js';
import {
  isReadElsewhere,
  NAMES,
  PROCESSES,
  SECRET_SAMPLES,
  SECRET_VARIABLE,
  type Env,
  type ProcessName,
} from './processes.js';

const rendered = new Map<Target, K8sObject[]>();
const texts = new Map<Target, string>();
let scratch: string;

beforeAll(async () => {
  scratch = mkdtempSync(join(tmpdir(), 'beacon-k8s-'));
  await Promise.all(
    TARGETS.map(async (target) => {
      const { text, objects } = await render(target);
      rendered.set(target, objects);
      texts.set(target, text);
    }),
  );
});
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const objectsOf = (target: Target) => rendered.get(target)!;
const deploymentsOf = (target: Target) => byKind<Deployment>(objectsOf(target), 'Deployment');
const deployment = (target: Target, name: ProcessName) =>
  deploymentsOf(target).find((d) => d.metadata.name === name)!;
const containerOf = (d: Deployment): Container => d.spec.template.spec.containers[0]!;
const portNumber = (c: Container, port: number | string) =>
  typeof port === 'number' ? port : c.ports?.find((p) => p.name === port)?.containerPort;

/**
 * The environment Kubernetes would give the container, with every Secret and ConfigMap volume
 * written under `root` and file paths in the environment moved there, so the code's own config
 * parser can read the files it names.
 */
function environmentOf(target: Target, d: Deployment, root: string): Env {
  const c = containerOf(d);
  const configMaps = new Map(
    byKind<K8sObject & { data?: Record<string, string> }>(objectsOf(target), 'ConfigMap').map((cm) => [
      cm.metadata.name,
      cm.data ?? {},
    ]),
  );
  const env: Env = {};
  for (const source of c.envFrom ?? []) {
    const name = source.configMapRef?.name;
    if (!name || !configMaps.has(name))
      throw new Error(`${d.metadata.name}: envFrom ${JSON.stringify(source)}`);
    Object.assign(env, configMaps.get(name));
  }
  for (const variable of c.env ?? []) {
    const ref = variable.valueFrom?.secretKeyRef;
    if (ref) {
      const sample = SECRET_SAMPLES[ref.key];
      if (!sample) throw new Error(`no sample for Secret key ${ref.key}`);
      env[variable.name] = sample();
    } else {
      env[variable.name] = variable.value;
    }
  }
  const mounts: [string, string][] = [];
  for (const mount of c.volumeMounts ?? []) {
    const volume = d.spec.template.spec.volumes?.find((v) => v.name === mount.name);
    const items = volume?.secret?.items ?? volume?.configMap?.items;
    if (!items) continue;
    const dir = join(root, d.metadata.name, mount.mountPath);
    for (const item of items) {
      const sample = SECRET_SAMPLES[item.key];
      if (!sample) throw new Error(`no sample for mounted key ${item.key}`);
      mkdirSync(dirname(join(dir, item.path)), { recursive: true });
      writeFileSync(join(dir, item.path), sample());
    }
    mounts.push([mount.mountPath, dir]);
  }
  for (const [name, value] of Object.entries(env)) {
    const mount = mounts.find(([path]) => value?.startsWith(`${path}/`));
    if (mount) env[name] = mount[1] + value!.slice(mount[0].length);
  }
  return env;
}

/**
 * How a process connects to NATS, from its own config parser: the services and the workflows
 * for their events, the gateway for sharing its rate limits (undefined without NATS_URL).
 */
function natsClientOf(
  name: ProcessName,
  env: Env,
): {
  servers: string[];
  auth?: { kind: string; file?: string };
  tls?: { certFile?: string; caFile?: string };
} {
  if (name === 'gateway') {
    const sharing = gatewayConfig(env).limitSharing;
    expect(sharing, 'the gateway has NATS_URL, so its replicas share their limits').toBeDefined();
    return { ...sharing!.nats, servers: [sharing!.nats.servers].flat() };
  }
  const { nats } = PROCESSES[name].load(env) as {
    nats: { servers: string | string[]; client: { auth?: { kind: string; file?: string }; tls?: object } };
  };
  return { ...nats.client, servers: [nats.servers].flat() };
}

/** The services whose readiness follows their dependencies (`watchDependencies`). */
const READINESS_SERVICE: Partial<Record<string, string>> = {
  intake: 'beacon.intake.v1.IntakeService',
  impact: 'beacon.impact.v1.ImpactService',
  notify: 'beacon.notify.v1.NotifyService',
  victims: 'beacon.victims.v1.VictimsService',
  workflows: 'beacon.response.v1.ResponseService',
};

describe('Kubernetes manifests (infra/k8s)', () => {
  // Schema validation reads hundreds of schema files per object: seconds, more on a busy machine.
  it('render, and every object passes the Kubernetes schemas strictly', { timeout: 60_000 }, async () => {
    const results = await Promise.all(
      TARGETS.map((target) => {
        const file = join(scratch, `${target.replace('/', '-')}.yaml`);
        writeFileSync(file, texts.get(target)!);
        return validate([file]);
      }),
    );
    for (const { ok, output } of results) {
      expect(output).toBe('');
      expect(ok).toBe(true);
    }
    for (const target of TARGETS)
      expect(
        deploymentsOf(target)
          .map((d) => d.metadata.name)
          .sort(),
      ).toEqual([...NAMES].sort());
  });

  describe.each(TARGETS)('%s', (target) => {
    it.each(NAMES)('%s: the code accepts its configuration, and its probes hit the port it binds', (name) => {
      const d = deployment(target, name);
      const env = environmentOf(target, d, join(scratch, target));
      const process = PROCESSES[name];
      expect(() => process.load(env)).not.toThrow();

      const c = containerOf(d);
      const grpcPort = process.grpcPort(env);
      expect(c.ports?.find((p) => p.name === 'grpc')?.containerPort).toBe(grpcPort);
      for (const probe of [c.startupProbe, c.readinessProbe, c.livenessProbe]) {
        expect(probe).toBeDefined();
        if (name === 'gateway') {
          expect(portNumber(c, probe!.httpGet!.port)).toBe(gatewayConfig(env).httpPort);
        } else {
          // grpc.health.v1: the empty service name is the whole server, alive. Kubelet probes speak
          // neither TLS nor mutual TLS: with TLS on, they must go to the plaintext health port.
          const { tls, healthPort } = process.grpcServer(env);
          if (tls) expect(healthPort, 'a TLS server needs GRPC_HEALTH_PORT for its probes').toBeDefined();
          expect(probe!.grpc?.port).toBe(healthPort ?? grpcPort);
          if (healthPort !== undefined) {
            expect(c.ports?.find((p) => p.name === 'grpc-health')?.containerPort).toBe(healthPort);
          }
          // Readiness asks for the service by name: its status follows the store and NATS.
          expect(probe!.grpc?.service ?? '').toBe(
            probe === c.readinessProbe ? (READINESS_SERVICE[name] ?? '') : '',
          );
        }
      }
      if (name === 'gateway') {
        expect(c.readinessProbe!.httpGet!.path).toBe('/readyz');
        expect(c.livenessProbe!.httpGet!.path).toBe('/healthz');
      }
      // Listening on the pod's address, not only its loopback.
      const host = Object.entries(env).find(([k]) => /^(GATEWAY_HOST|[A-Z]+_GRPC_HOST)$/.test(k));
      expect(host?.[1]).toBe('0.0.0.0');
    });

    it.each(['gateway', 'impact', 'workflows'] as const)(
      '%s: calls the other processes at Services that expose the ports they bind',
      (name) => {
        const env = environmentOf(target, deployment(target, name), join(scratch, `${target}-addresses`));
        const services = byKind<
          K8sObject & {
            spec: {
              selector: Record<string, string>;
              ports: { port: number; targetPort: string }[];
              clusterIP?: string;
            };
          }
        >(objectsOf(target), 'Service');
        const addresses = Object.entries(env).filter(
          ([k]) => k.endsWith('_ADDRESS') && k !== 'TEMPORAL_ADDRESS',
        );
        expect(addresses.length).toBeGreaterThan(0);
        for (const [variable, address] of addresses) {
          const [host, port] = address!.split(':');
          const service = services.find((s) => s.metadata.name === host);
          expect(service, `${variable}=${address}`).toBeDefined();
          // Headless, so the callers' round-robin sees every pod (the port is then the pod's own).
          expect(service!.spec.clusterIP, `${variable}=${address}`).toBe('None');
          const callee = NAMES.find((n) =>
            selects(
              { matchLabels: service!.spec.selector },
              deployment(target, n).spec.template.metadata.labels,
            ),
          )!;
          const calleeEnv = environmentOf(
            target,
            deployment(target, callee),
            join(scratch, `${target}-addresses`),
          );
          const exposed = service!.spec.ports.find((p) => p.port === Number(port));
          expect(exposed?.targetPort, `${variable}=${address}`).toBe('grpc');
          expect(Number(port), `${variable}=${address}`).toBe(PROCESSES[callee].grpcPort(calleeEnv));
        }
      },
    );

    it.each(NAMES)('%s: sets no variable that the code does not read', (name) => {
      const d = deployment(target, name);
      const read = variablesReadBy(PROCESSES[name].sources);
      const set = Object.keys(environmentOf(target, d, join(scratch, `${target}-names`)));
      expect(set.filter((v) => !read.has(v) && !isReadElsewhere(v))).toEqual([]);
    });

    it('keeps secrets in Secrets only, and commits none', () => {
      const objects = objectsOf(target);
      expect(byKind(objects, 'Secret')).toEqual([]);
      for (const cm of byKind<K8sObject & { data?: Record<string, string> }>(objects, 'ConfigMap')) {
        expect(Object.keys(cm.data ?? {}).filter((k) => SECRET_VARIABLE.test(k))).toEqual([]);
      }
      for (const d of deploymentsOf(target)) {
        const c = containerOf(d);
        for (const variable of c.env ?? []) {
          if (SECRET_VARIABLE.test(variable.name)) {
            // From the process's own Secret: a pod can read no other service's keys.
            expect(variable.valueFrom?.secretKeyRef?.name).toBe(`${d.metadata.name}-secrets`);
          }
        }
        for (const volume of d.spec.template.spec.volumes ?? []) {
          if (volume.secret) expect(volume.secret.secretName).toBe(`${d.metadata.name}-secrets`);
        }
        expect(c.envFrom?.some((s) => s.secretRef)).toBeFalsy();
      }
    });

    it('every process reaches NATS, the gateway to share its rate limits; in the overlays none anonymously', () => {
      const root = join(scratch, `${target}-nats`);
      for (const name of NAMES) {
        const d = deployment(target, name);
        const env = environmentOf(target, d, root);
        const client = natsClientOf(name, env);
        expect(client.servers, name).toEqual([expect.stringMatching(/^nats:\/\//)]);
        if (target === 'base') continue;
        // Its own user, from its own Secret (which Secret is asserted above): `nats.creds`.
        expect(client.auth?.kind, name).toBe('creds');
        expect(client.auth?.file, name).toMatch(/\/nats\.creds$/);
        const keys = (d.spec.template.spec.volumes ?? []).flatMap(
          (v) => v.secret?.items?.map((i) => i.key) ?? [],
        );
        expect(keys, name).toContain('nats.creds');
      }
      // One address for all of them: an overlay that moves NATS moves every process.
      const urls = new Set(
        NAMES.map((n) => natsClientOf(n, environmentOf(target, deployment(target, n), root)).servers.join()),
      );
      expect(urls.size).toBe(1);
      // The gateway shares on the subject its NATS user is limited to (docs/operations.md).
      const gateway = gatewayConfig(environmentOf(target, deployment(target, 'gateway'), root));
      expect(gateway.limitSharing?.subject).toBe(GATEWAY_LIMITS_SUBJECT);
    });

    it.each(NAMES)(
      '%s: runs restricted, with requests, limits, an autoscaler, a disruption budget and a Service',
      (name) => {
        const objects = objectsOf(target);
        const d = deployment(target, name);
        const pod = d.spec.template.spec;
        const c = containerOf(d);
        const labels = d.spec.template.metadata.labels;

        expect(pod.securityContext?.runAsNonRoot).toBe(true);
        expect(pod.securityContext?.runAsUser).toBeGreaterThan(0);
        expect(pod.securityContext?.seccompProfile?.type).toBe('RuntimeDefault');
        expect(pod.automountServiceAccountToken).toBe(false);
        expect(pod.enableServiceLinks).toBe(false);
        expect(pod.hostNetwork).toBeFalsy();
        expect(pod.containers).toHaveLength(1);
        expect(c.securityContext).toMatchObject({
          allowPrivilegeEscalation: false,
          readOnlyRootFilesystem: true,
          capabilities: { drop: ['ALL'] },
        });
        expect(c.securityContext?.privileged).toBeFalsy();
        expect(c.securityContext?.capabilities?.add).toBeUndefined();
        expect(c.image).toMatch(/:[\w.-]+$|@sha256:[0-9a-f]{64}$/);
        expect(c.image).not.toMatch(/:latest$/);
        for (const kind of ['requests', 'limits'] as const) {
          expect(c.resources?.[kind]?.['cpu'], `${kind}.cpu`).toBeDefined();
          expect(c.resources?.[kind]?.['memory'], `${kind}.memory`).toBeDefined();
        }
        // The autoscaler owns the replica count; a fixed one would fight it on every apply.
        expect(d.spec.replicas).toBeUndefined();

        const hpas = byKind<
          K8sObject & {
            spec: {
              scaleTargetRef: { kind: string; name: string };
              minReplicas: number;
              maxReplicas: number;
            };
          }
        >(objects, 'HorizontalPodAutoscaler').filter(
          (h) => h.spec.scaleTargetRef.kind === 'Deployment' && h.spec.scaleTargetRef.name === name,
        );
        expect(hpas).toHaveLength(1);
        expect(hpas[0]!.spec.maxReplicas).toBeGreaterThan(hpas[0]!.spec.minReplicas);

        const pdbs = byKind<K8sObject & { spec: { selector: { matchLabels: Record<string, string> } } }>(
          objects,
          'PodDisruptionBudget',
        ).filter((p) => selects(p.spec.selector, labels));
        expect(pdbs).toHaveLength(1);

        const services = byKind<
          K8sObject & { spec: { selector: Record<string, string>; ports: { targetPort: string }[] } }
        >(objects, 'Service').filter((s) => selects({ matchLabels: s.spec.selector }, labels));
        expect(services).toHaveLength(1);
        for (const port of services[0]!.spec.ports) {
          expect(c.ports?.map((p) => p.name)).toContain(port.targetPort);
        }
      },
    );

    describe('network policies', () => {
      const policies = () => byKind<NetworkPolicy>(objectsOf(target), 'NetworkPolicy');
      const labelsOf = (name: ProcessName) => deployment(target, name).spec.template.metadata.labels;
      /** The ingress rules that apply to a process's pods on a port. */
      const ingressTo = (name: ProcessName, port: number) =>
        policies()
          .filter(
            (p) => p.spec.policyTypes.includes('Ingress') && selects(p.spec.podSelector, labelsOf(name)),
          )
          .flatMap((p) => p.spec.ingress ?? [])
          .filter((r) => !r.ports || r.ports.some((p) => p.port === port));
      /** Which Beacon processes a peer list admits. */
      const processesIn = (peers: NetworkPolicyPeer[]) =>
        NAMES.filter((n) =>
          peers.some(
            (p) => !p.namespaceSelector && !p.ipBlock && p.podSelector && selects(p.podSelector, labelsOf(n)),
          ),
        );

      it('deny everything not allowed, both ways', () => {
        const deny = policies().filter((p) => Object.keys(p.spec.podSelector).length === 0);
        expect(deny.some((p) => p.spec.policyTypes.includes('Ingress') && !p.spec.ingress)).toBe(true);
        expect(deny.some((p) => p.spec.policyTypes.includes('Egress') && !p.spec.egress)).toBe(true);
      });

      it('let in only the callers the architecture has', () => {
        const callers: Record<Exclude<ProcessName, 'gateway'>, ProcessName[]> = {
          intake: ['gateway', 'impact', 'workflows'],
          impact: ['gateway', 'workflows'],
          notify: ['gateway', 'workflows'],
          victims: ['gateway', 'workflows'],
          workflows: ['gateway'],
        };
        for (const [name, expected] of Object.entries(callers) as [
          Exclude<ProcessName, 'gateway'>,
          ProcessName[],
        ][]) {
          const port = containerOf(deployment(target, name)).ports!.find(
            (p) => p.name === 'grpc',
          )!.containerPort;
          const rules = ingressTo(name, port);
          expect(rules.length, name).toBeGreaterThan(0);
          for (const rule of rules) {
            // No rule opens a service's gRPC port to everyone, another namespace or an address range.
            expect(rule.from, name).toBeDefined();
            expect(
              rule.from!.every((peer) => peer.podSelector && !peer.namespaceSelector && !peer.ipBlock),
              name,
            ).toBe(true);
          }
          expect(processesIn(rules.flatMap((r) => r.from!)).sort(), name).toEqual([...expected].sort());
        }
      });

      it('reach MongoDB only from the services that own a database, Temporal only from the workflows, NATS from every process', () => {
        const egressPorts = (name: ProcessName) =>
          policies()
            .filter(
              (p) => p.spec.policyTypes.includes('Egress') && selects(p.spec.podSelector, labelsOf(name)),
            )
            .flatMap((p) => p.spec.egress ?? [])
            .filter((r) => r.to?.some((peer) => !peer.podSelector || peer.namespaceSelector))
            .flatMap((r) => (r.ports ?? [{ port: 'any' }]).map((p) => p.port));
        const reaching = (port: number) => NAMES.filter((n) => egressPorts(n).includes(port)).sort();
        expect(reaching(27017)).toEqual(['impact', 'intake', 'notify', 'victims']);
        expect(reaching(7233)).toEqual(['workflows']);
        // The gateway too: it shares its rate limits among its replicas over core NATS.
        expect(reaching(4222)).toEqual(['gateway', 'impact', 'intake', 'notify', 'victims', 'workflows']);
        // Only notify (webhooks, e-mail) may reach outside addresses on any port.
        expect(NAMES.filter((n) => egressPorts(n).includes('any'))).toEqual(['notify']);
      });
    });
  });
  it('production: every NATS client presents its own credentials and certificate; the workflows one to Temporal', () => {
    const target = 'overlays/production';
    const root = join(scratch, 'production-auth');
    for (const name of NAMES) {
      const d = deployment(target, name);
      const { auth, tls } = natsClientOf(name, environmentOf(target, d, root));
      expect(auth?.kind, name).toBe('creds');
      expect(
        [tls?.certFile, tls?.caFile].every((f) => typeof f === 'string'),
        name,
      ).toBe(true);
      // Mounted from the process's own Secret (checked above), under these keys.
      const keys = (d.spec.template.spec.volumes ?? []).flatMap(
        (v) => v.secret?.items?.map((i) => i.key) ?? [],
      );
      expect(keys, name).toEqual(expect.arrayContaining(['nats.creds', 'nats-tls.crt', 'nats-tls.key']));
    }
    const { tls } = PROCESSES.workflows.load(environmentOf(target, deployment(target, 'workflows'), root))
      .temporal.connection;
    expect([tls?.certFile, tls?.keyFile, tls?.caFile].every((f) => typeof f === 'string')).toBe(true);
  });

  it('production: every gRPC server requires mutual TLS, and every caller presents its certificate', () => {
    const target = 'overlays/production';
    const root = join(scratch, 'production-grpc');
    const envOf = (name: ProcessName) => environmentOf(target, deployment(target, name), root);
    for (const name of NAMES.filter((n) => n !== 'gateway')) {
      const { tls } = PROCESSES[name].grpcServer(envOf(name));
      expect(tls?.clientCaFile, name).toEqual(expect.any(String));
    }
    // The gateway's door stays plaintext behind the ingress, which terminates TLS.
    expect(PROCESSES.gateway.grpcServer(envOf('gateway')).tls).toBeUndefined();
    const callers = {
      gateway: gatewayConfig(envOf('gateway')).grpcClientTls,
      impact: PROCESSES.impact.load(envOf('impact')).intake?.tls,
      workflows: PROCESSES.workflows.load(envOf('workflows')).services.tls,
    };
    for (const [name, tls] of Object.entries(callers)) {
      expect(
        [tls?.caFile, tls?.certFile, tls?.keyFile].every((f) => typeof f === 'string'),
        name,
      ).toBe(true);
    }
  });
});
