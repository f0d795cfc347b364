import { jetstream } from '@nats-io/jetstream';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, type Worker } from '@temporalio/worker';
import {
  connectEvents,
  createAuthenticator,
  GRPC_CLIENT_OPTIONS,
  grpcChannelCredentials,
  grpcClientInterceptors,
  Metrics,
  serviceTokens,
  startGrpcServer,
  natsDependency,
  watchDependencies,
  type Dependency,
  startMetricsServer,
  StopOrder,
  watchConsumerLag,
  type ConsumerRef,
  type Logger,
  type RunningGrpcServer,
} from '@beacon/platform';
import { impactV1, intakeV1, notifyV1, victimsV1 } from '@beacon/proto';
import { createActivities } from './activities/create-activities.js';
import { jetStreamEventPublisher } from './adapters/event-publisher.js';
import { responseMetrics } from './adapters/response-metrics.js';
import { JetStreamTimelineStore, timelineStream } from './adapters/timeline-store.js';
import { temporalConnectionOptions } from './adapters/temporal-connection.js';
import { appendTemporalCoreMetrics } from './adapters/temporal-metrics.js';
import { GrpcVictimsPort } from './adapters/victims-client.js';
import type { ResponseActivities } from './activities/types.js';
import { intakeIncidentReader } from './api/incident-access.js';
import { RESPONSE_SERVICE, responseGrpc } from './api/response-grpc.js';
import type { WorkflowsConfig } from './config.js';
import { AcknowledgementSignaller } from './events/acknowledgement-signaller.js';
import { IncidentChangeSignaller } from './events/incident-change-signaller.js';
import { IncidentStarter } from './events/incident-starter.js';
import { createResponseWorker, temporalClientInterceptors } from './worker.js';
import { workerRunVerdict, type WorkerVerdict } from './worker-supervision.js';

export const VERSION = '0.1.0';

export interface RunningWorkflows {
  /** The response API's port, when this process serves it. */
  readonly apiPort: number | undefined;
  /** Where `/metrics` is served. */
  readonly metricsPort: number;
  readonly client: Client;
  readonly starter: IncidentStarter | undefined;
  stop(): Promise<void>;
}

export interface StartOptions {
  /** For tests only: wraps the real activities (e.g. to stall one and kill the process). */
  readonly wrapActivities?: (activities: ResponseActivities) => ResponseActivities;
  /**
   * Called once when the Temporal worker's run ends without `stop()` having been called: the
   * process's `main` ends the process then (exit 1). Without it the end is only logged.
   */
  readonly onWorkerStopped?: (verdict: Extract<WorkerVerdict, { exit: true }>) => void;
}

/**
 * Wires the response side of Beacon, each part when its role is configured: the Temporal
 * worker (workflows and their activities against intake, impact, notify and JetStream), the
 * starter that opens a response per `incident.opened`, the consumer that turns notify's
 * acknowledgements into signals, and the response API for the gateway.
 */
export async function startWorkflows(
  config: WorkflowsConfig,
  logger: Logger,
  options: StartOptions = {},
): Promise<RunningWorkflows> {
  const { roles } = config;
  const stops = new StopOrder();
  try {
    const temporalOptions = temporalConnectionOptions(config.temporal.connection);
    const connection = await Connection.connect(temporalOptions);
    stops.push(() => connection.close());
    const client = new Client({
      connection,
      namespace: config.temporal.namespace,
      interceptors: temporalClientInterceptors(),
    });
    const nc = await connectEvents(config.nats, 'beacon-workflows', logger, [
      timelineStream(config.nats.timelineStream, config.nats.timelineSubjectRoot, config.nats.replicas),
    ]);
    stops.push(() => nc.drain());
    const timeline = new JetStreamTimelineStore(
      nc,
      jetstream(nc),
      config.nats.timelineStream,
      config.nats.timelineSubjectRoot,
    );
    const metrics = new Metrics();
    const consumers: ConsumerRef[] = [];
    watchConsumerLag(metrics, { nc, consumers: () => consumers, logger });
    if (config.temporal.metricsAddress && roles.has('worker')) {
      appendTemporalCoreMetrics(metrics, config.temporal.metricsAddress, logger);
    }

    let worker: Worker | undefined;
    if (roles.has('worker')) {
      const { services } = config;
      // One set of client credentials (one watcher of the TLS files) for every service.
      const channel = grpcChannelCredentials(services.tls);
      const traced = { ...GRPC_CLIENT_OPTIONS, interceptors: grpcClientInterceptors() };
      const intake = new intakeV1.IntakeServiceClient(services.intake, channel, traced);
      const notify = new notifyV1.NotifyServiceClient(services.notify, channel, traced);
      const impact = services.impact
        ? new impactV1.ImpactServiceClient(services.impact, channel, traced)
        : undefined;
      const victims = services.victims
        ? new victimsV1.VictimsServiceClient(services.victims, channel, traced)
        : undefined;
      stops.push(() => {
        intake.close();
        notify.close();
        impact?.close();
        victims?.close();
      });
      const token = serviceTokens(services.identity, {
        onRenewalFailure: (err) => logger.warn({ err }, 'renewing the service token failed; retrying'),
      });
      const js = jetstream(nc);
      const activities = createActivities({
        intake,
        notify,
        ...(impact ? { impact } : {}),
        ...(victims ? { victims: new GrpcVictimsPort(victims, token, 10_000) } : {}),
        publish: jetStreamEventPublisher(js, config.nats.subjectRoot),
        timeline,
        token,
        events: responseMetrics(metrics),
      });
      const nativeConnection = await NativeConnection.connect(temporalOptions);
      stops.push(() => nativeConnection.close());
      worker = await createResponseWorker({
        connection: nativeConnection,
        namespace: config.temporal.namespace,
        taskQueue: config.temporal.taskQueue,
        activities: options.wrapActivities ? options.wrapActivities(activities) : activities,
        ...(config.temporal.maxCachedWorkflows === undefined
          ? {}
          : { maxCachedWorkflows: config.temporal.maxCachedWorkflows }),
      });
      const running = worker.run();
      const w = worker;
      let ended = false;
      stops.push(async () => {
        if (w.getState() === 'RUNNING') w.shutdown();
        // A run that ended unasked was reported then; one that fails now fails the stop.
        if (!ended) await running;
      });
      void running
        .then(
          () => ({ ok: true }) as const,
          (error: unknown) => ({ ok: false, error }) as const,
        )
        .then((end) => {
          ended = true;
          const verdict = workerRunVerdict(end, stops.stopping);
          if (!verdict.exit) return;
          logger.fatal({ err: verdict.error }, verdict.reason);
          options.onWorkerStopped?.(verdict);
        });
    }

    /** The event consumers this process runs: its readiness follows them too. */
    const consumerHealth: Dependency[] = [];
    const signallerOptions = (durable: string) => ({
      nc,
      stream: config.nats.stream,
      subjectRoot: config.nats.subjectRoot,
      durable,
      client,
      logger,
    });
    /** Starts a signaller: the process's readiness follows it, and stopping the process stops it. */
    const signal = async (signaller: IncidentChangeSignaller | AcknowledgementSignaller) => {
      await signaller.start();
      consumerHealth.push(signaller.health());
      stops.push(() => signaller.stop());
    };
    let starter: IncidentStarter | undefined;
    if (roles.has('starter')) {
      starter = new IncidentStarter({
        nc,
        stream: config.nats.stream,
        subjectRoot: config.nats.subjectRoot,
        durable: config.nats.starterConsumer,
        client,
        taskQueue: config.temporal.taskQueue,
        logger,
      });
      await starter.start();
      consumerHealth.push(starter.health());
      consumers.push(
        { stream: config.nats.stream, consumer: config.nats.starterConsumer },
        { stream: config.nats.stream, consumer: config.nats.changesConsumer },
      );
      const s = starter;
      stops.push(() => s.stop());
      await signal(new IncidentChangeSignaller(signallerOptions(config.nats.changesConsumer)));
    }
    if (roles.has('acks')) {
      await signal(new AcknowledgementSignaller(signallerOptions(config.nats.ackConsumer)));
      consumers.push({ stream: config.nats.stream, consumer: config.nats.ackConsumer });
    }
    let api: RunningGrpcServer | undefined;
    if (roles.has('api')) {
      // The API asks intake, as each caller, whether the incident is there for that caller.
      const intake = new intakeV1.IntakeServiceClient(
        config.services.intake,
        grpcChannelCredentials(config.services.tls),
        { ...GRPC_CLIENT_OPTIONS, interceptors: grpcClientInterceptors() },
      );
      stops.push(() => intake.close());
      api = await startGrpcServer({
        component: 'workflows',
        version: VERSION,
        ...config.api,
        logger,
        metrics,
        services: [
          responseGrpc({
            client,
            authenticator: createAuthenticator(config.auth),
            logger,
            incidents: intakeIncidentReader(intake),
            taskQueue: config.temporal.taskQueue,
            timeline,
          }),
        ],
      });
      const server = api;
      stops.push(() => server.shutdown());
      // Not ready while Temporal, NATS or an event consumer fails (stopped before the server drains).
      const stopWatch = watchDependencies({
        health: server.health,
        services: [RESPONSE_SERVICE],
        dependencies: [
          { name: 'temporal', probe: () => connection.workflowService.getSystemInfo({}) },
          natsDependency(nc),
          ...consumerHealth,
        ],
        logger,
      });
      stops.push(stopWatch);
    }
    const metricsServer = await startMetricsServer(metrics, config.metrics, logger);
    stops.push(() => metricsServer.stop());
    logger.info(
      { roles: [...roles], apiPort: api?.port, taskQueue: config.temporal.taskQueue },
      'workflows running',
    );
    return { apiPort: api?.port, metricsPort: metricsServer.port, client, starter, stop: () => stops.stop() };
  } catch (error) {
    await stops.stop();
    throw error;
  }
}
