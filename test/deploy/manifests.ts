import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parseAllDocuments } from 'yaml';
import { installedBinary, repoRoot } from '@beacon/testkit/infra';

const run = promisify(execFile);

/** The kustomizations users deploy: the base alone, and each overlay. */
export const TARGETS = ['base', 'overlays/production', 'overlays/staging'] as const;
export type Target = (typeof TARGETS)[number];

export const k8sDir = join(repoRoot, 'infra/k8s');

/** The parts of Kubernetes objects the checks read; everything else stays `unknown`. */
export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  [field: string]: unknown;
}

export interface Probe {
  grpc?: { port: number; service?: string };
  httpGet?: { path: string; port: number | string };
  periodSeconds?: number;
  failureThreshold?: number;
}

export interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: {
    secretKeyRef?: { name: string; key: string; optional?: boolean };
    configMapKeyRef?: { name: string; key: string };
  };
}

export interface Container {
  name: string;
  image: string;
  ports?: { name?: string; containerPort: number }[];
  env?: EnvVar[];
  envFrom?: { configMapRef?: { name: string }; secretRef?: { name: string } }[];
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  startupProbe?: Probe;
  readinessProbe?: Probe;
  livenessProbe?: Probe;
  securityContext?: {
    runAsNonRoot?: boolean;
    allowPrivilegeEscalation?: boolean;
    readOnlyRootFilesystem?: boolean;
    privileged?: boolean;
    capabilities?: { drop?: string[]; add?: string[] };
  };
  volumeMounts?: { name: string; mountPath: string; readOnly?: boolean }[];
}

export interface Volume {
  name: string;
  secret?: { secretName: string; items?: { key: string; path: string }[] };
  configMap?: { name: string; items?: { key: string; path: string }[] };
  emptyDir?: object;
}

export interface PodSpec {
  serviceAccountName?: string;
  automountServiceAccountToken?: boolean;
  enableServiceLinks?: boolean;
  hostNetwork?: boolean;
  securityContext?: {
    runAsNonRoot?: boolean;
    runAsUser?: number;
    seccompProfile?: { type: string };
  };
  containers: Container[];
  volumes?: Volume[];
}

export interface Deployment extends K8sObject {
  spec: {
    replicas?: number;
    selector: { matchLabels: Record<string, string> };
    template: { metadata: { labels: Record<string, string> }; spec: PodSpec };
  };
}

export interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: { key: string; operator: string; values?: string[] }[];
}

export interface NetworkPolicyPeer {
  podSelector?: LabelSelector;
  namespaceSelector?: LabelSelector;
  ipBlock?: { cidr: string; except?: string[] };
}

export interface NetworkPolicyRule {
  from?: NetworkPolicyPeer[];
  to?: NetworkPolicyPeer[];
  ports?: { protocol?: string; port?: number | string }[];
}

export interface NetworkPolicy extends K8sObject {
  spec: {
    podSelector: LabelSelector;
    policyTypes: string[];
    ingress?: NetworkPolicyRule[];
    egress?: NetworkPolicyRule[];
  };
}

/** Renders a kustomization with the pinned kubectl's built-in kustomize (offline). */
export async function render(target: Target): Promise<{ text: string; objects: K8sObject[] }> {
  const { stdout } = await run(installedBinary('kubectl'), ['kustomize', join(k8sDir, target)], {
    maxBuffer: 16 * 1024 * 1024,
  });
  const objects = parseAllDocuments(stdout).map((doc) => {
    if (doc.errors.length > 0) throw new Error(`${target}: ${doc.errors[0]!.message}`);
    return doc.toJS() as K8sObject;
  });
  return { text: stdout, objects };
}

/**
 * Validates rendered files against the Kubernetes OpenAPI schemas that kubernetes-validate
 * bundles, strictly (unknown fields are errors). Any line it prints is a finding: with
 * `--quiet` it prints only failures and warnings, and a kind it has no schema for is only a
 * warning, which would let a typo'd apiVersion through.
 */
export async function validate(files: readonly string[]): Promise<{ ok: boolean; output: string }> {
  try {
    const { stdout, stderr } = await run(
      installedBinary('kubernetes-validate'),
      ['--strict', '--quiet', '--kubernetes-version', KUBERNETES_VERSION, ...files],
      { maxBuffer: 16 * 1024 * 1024 },
    );
    const output = (stdout + stderr).trim();
    return { ok: output === '', output };
  } catch (error) {
    const failed = error as { stdout?: string; stderr?: string; message: string };
    return { ok: false, output: `${failed.stdout ?? ''}${failed.stderr ?? ''}`.trim() || failed.message };
  }
}

/** The Kubernetes version the manifests are checked against (the newest kubernetes-validate has). */
export const KUBERNETES_VERSION = '1.37.0';

export const byKind = <T extends K8sObject>(objects: readonly K8sObject[], kind: string): T[] =>
  objects.filter((o) => o.kind === kind) as T[];

/** Whether a label selector selects an object with these labels. */
export function selects(selector: LabelSelector, labels: Record<string, string>): boolean {
  for (const [key, value] of Object.entries(selector.matchLabels ?? {})) {
    if (labels[key] !== value) return false;
  }
  for (const { key, operator, values = [] } of selector.matchExpressions ?? []) {
    const has = key in labels;
    const value = labels[key];
    const ok =
      operator === 'In'
        ? has && values.includes(value!)
        : operator === 'NotIn'
          ? !has || !values.includes(value!)
          : operator === 'Exists'
            ? has
            : operator === 'DoesNotExist'
              ? !has
              : false;
    if (!ok) return false;
  }
  return true;
}

/** The environment variable names a process's own `config.ts` reads, with platform's shared ones. */
export function variablesReadBy(configFiles: readonly string[]): Set<string> {
  const names = new Set<string>();
  for (const file of [
    ...configFiles,
    'packages/platform/src/config.ts',
    'packages/platform/src/service-config.ts',
  ]) {
    const source = readFileSync(join(repoRoot, file), 'utf8');
    for (const [, name] of source.matchAll(/^\s+([A-Z][A-Z0-9_]+):/gm)) names.add(name!);
  }
  return names;
}
