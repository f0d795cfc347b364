import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ClientInterceptors } from '@temporalio/client';
import {
  makeWorkflowExporter,
  OpenTelemetryActivityInboundInterceptor,
  OpenTelemetryActivityOutboundInterceptor,
  OpenTelemetryWorkflowClientInterceptor,
} from '@temporalio/interceptors-opentelemetry';
import { currentTracing, type Logger as PinoLogger } from '@beacon/platform';
import {
  bundleWorkflowCode,
  DefaultLogger,
  type NativeConnection,
  Runtime,
  Worker,
  type LogLevel,
  type LogMetadata,
  type WorkflowBundleWithSourceMap,
} from '@temporalio/worker';
import type { ResponseActivities } from './activities/types.js';
import { cachedBundle } from './bundle-cache.js';
import { TASK_QUEUE } from './workflows/definitions.js';

/** Running from TypeScript sources (tests, tsx) rather than from the built output. */
const fromSources = import.meta.url.endsWith('.ts');

/** The module every response workflow is exported from. */
export const WORKFLOWS_PATH = fileURLToPath(
  new URL(`./workflows/index.${fromSources ? 'ts' : 'js'}`, import.meta.url),
);

/**
 * The SDK's OpenTelemetry workflow interceptors: workflow-safe (spans are made inside the
 * sandbox with the workflow's deterministic clock and leave it through the `exporter` sink,
 * which is not called on replay). Bundled only when the process traces.
 */
const OTEL_WORKFLOW_INTERCEPTORS = createRequire(import.meta.url).resolve(
  '@temporalio/interceptors-opentelemetry/lib/workflow-interceptors',
);

/**
 * Bundles the response workflows once (a second or two); a process that creates several
 * workers (tests, the benchmark) passes the bundle to each. From sources, workspace packages
 * resolve to their TypeScript (the `source` export condition), as everywhere else in tests.
 * With `tracing` (by default: whether this process traces) the bundle carries the
 * OpenTelemetry workflow interceptors; a worker given it must then trace too.
 */
export async function bundleResponseWorkflows(
  options: { readonly tracing?: boolean } = {},
): Promise<WorkflowBundleWithSourceMap> {
  const tracing = options.tracing ?? currentTracing().enabled;
  return bundleWorkflowCode({
    workflowsPath: WORKFLOWS_PATH,
    logger: new DefaultLogger('WARN'),
    ...(tracing ? { workflowInterceptorModules: [OTEL_WORKFLOW_INTERCEPTORS] } : {}),
    // See the plugin below: the request is bundled, just not where the check looks for it.
    ignoreModules: ['punycode/'],
    webpackConfigHook: (config) => ({
      ...config,
      ...(fromSources ? { resolve: { ...config.resolve, conditionNames: ['source', '...'] } } : {}),
      plugins: [
        ...(config.plugins ?? []),
        {
          // tr46 (UTS #46 for @beacon/domain's observables) requires the npm `punycode` package
          // as `punycode/`, which the bundler takes for Node's built-in of that name: it refuses
          // the request, or stubs it out when ignored. The package is pure JS, so the request is
          // pointed at its file, found as Node would find it from tr46, and bundled.
          apply: (compiler) =>
            compiler.hooks.normalModuleFactory.tap('npm-punycode', (factory) =>
              factory.hooks.beforeResolve.tap('npm-punycode', (data) => {
                if (data.request === 'punycode/') {
                  data.request = createRequire(`${data.context}/`).resolve('punycode/');
                }
              }),
            ),
        },
      ],
    }),
  });
}

export interface ResponseWorkerOptions {
  readonly connection: NativeConnection;
  readonly namespace: string;
  readonly taskQueue?: string;
  readonly activities: ResponseActivities;
  readonly bundle?: WorkflowBundleWithSourceMap;
  /** Workflows kept in memory between tasks; Temporal's default is 1,000 per worker. */
  readonly maxCachedWorkflows?: number;
  readonly identity?: string;
}

/** A worker for every response workflow and activity, on the `response` task queue. */
export async function createResponseWorker(options: ResponseWorkerOptions): Promise<Worker> {
  const bundle =
    options.bundle ??
    (fromSources
      ? await bundleResponseWorkflows()
      : await cachedBundle(dirname(WORKFLOWS_PATH), currentTracing().enabled, () =>
          bundleResponseWorkflows(),
        ));
  const tracing = currentTracing();
  return Worker.create({
    connection: options.connection,
    namespace: options.namespace,
    taskQueue: options.taskQueue ?? TASK_QUEUE,
    workflowBundle: bundle,
    activities: options.activities,
    // Traced: each activity runs in a span continuing its workflow's, and the workflows' own
    // spans (made in the sandbox) reach this process's span processor through a sink.
    ...(tracing.spanProcessor && tracing.resource
      ? {
          interceptors: {
            activity: [
              (ctx) => ({
                inbound: new OpenTelemetryActivityInboundInterceptor(ctx),
                outbound: new OpenTelemetryActivityOutboundInterceptor(ctx),
              }),
            ],
          },
          sinks: { exporter: makeWorkflowExporter(tracing.spanProcessor, tracing.resource) },
        }
      : {}),
    ...(options.maxCachedWorkflows === undefined ? {} : { maxCachedWorkflows: options.maxCachedWorkflows }),
    ...(options.identity === undefined ? {} : { identity: options.identity }),
  });
}

/**
 * Client interceptors for a Temporal client: when the process traces, starting, signalling or
 * updating a workflow is a span whose context travels in the workflow's headers.
 */
export function temporalClientInterceptors(): ClientInterceptors {
  return currentTracing().enabled ? { workflow: [new OpenTelemetryWorkflowClientInterceptor()] } : {};
}

const PINO_LEVEL: Record<LogLevel, 'trace' | 'debug' | 'info' | 'warn' | 'error'> = {
  TRACE: 'trace',
  DEBUG: 'debug',
  INFO: 'info',
  WARN: 'warn',
  ERROR: 'error',
};

/**
 * Sends everything Temporal logs — the SDK, workflows' and activities' `log`, and the native
 * core (forwarded) — to pino. Once per process, before any connection or worker is made.
 * With `metricsAddress`, the core also serves its worker metrics (task slots, poll and
 * schedule-to-start latencies, sticky cache, activity and workflow task outcomes) in
 * Prometheus form there, with `_total` counters, units in names and seconds.
 */
export function installTemporalLogging(
  logger: PinoLogger,
  coreLevel: 'WARN' | 'INFO' = 'WARN',
  options: { readonly metricsAddress?: string | undefined } = {},
): void {
  const temporal = logger.child({ component: 'temporal' });
  Runtime.install({
    // The process's own shutdown (onShutdown) stops the worker on SIGTERM, in its order; the
    // SDK stopping it first would look like a worker that stopped unasked.
    shutdownSignals: [],
    logger: new DefaultLogger('DEBUG', ({ level, message, meta }) => {
      temporal[PINO_LEVEL[level]](toPinoMeta(meta), message);
    }),
    telemetryOptions: {
      logging: { filter: { core: coreLevel, other: 'ERROR' }, forward: {} },
      ...(options.metricsAddress
        ? {
            metrics: {
              prometheus: {
                bindAddress: options.metricsAddress,
                countersTotalSuffix: true,
                unitSuffix: true,
                useSecondsForDurations: true,
              },
            },
          }
        : {}),
    },
  });
}

function toPinoMeta(meta: LogMetadata | undefined): Record<string, unknown> {
  if (!meta) return {};
  // Symbol keys (Temporal's internal markers) mean nothing in a log line.
  return Object.fromEntries(Object.entries(meta));
}
