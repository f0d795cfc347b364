/**
 * Runtime plumbing every Beacon service shares: one way each to read configuration, log,
 * reach NATS/JetStream and MongoDB, and serve gRPC.
 */
export {
  AUTH_ENV,
  authConfigFrom,
  BEACON_ENV_ENV,
  beaconEnvFrom,
  type BeaconEnv,
  clientTlsFrom,
  commaList,
  ConfigError,
  env,
  GRPC_CLIENT_ENV,
  GRPC_SERVER_ENV,
  grpcClientTlsFrom,
  grpcServerFrom,
  METRICS_ENV,
  metricsConfigFrom,
  NATS_CLIENT_ENV,
  natsClientFrom,
  parseConfig,
  secretFrom,
  type ClientTlsFiles,
  type ClientTlsVariables,
  type GrpcClientTls,
  type GrpcServerTls,
} from './config.js';
export {
  ACK_SUBJECT_ROOT,
  agencyAckSubjects,
  agencyConsumerName,
  agencyFeedFilter,
  agencyInboxPrefix,
  agencyPermissions,
  createOperatorSetup,
  DEFAULT_AGENCY_TTL_SECONDS,
  DEFAULT_CONSUMER,
  FEED_SUBJECT_ROOT,
  FEEDS_STREAM,
  GATEWAY_LIMITS_SUBJECT,
  gatewayPermissions,
  mintAgencyUser,
  mintGatewayUser,
  mintServiceUser,
  mintSystemUser,
  renderOperatorConfig,
  signBeaconAccount,
  type AccountSigner,
  type AgencyPermissions,
  type AgencyUserOptions,
  type BeaconAccountOptions,
  type GatewayUserOptions,
  type NatsEntity,
  type NatsKey,
  type OperatorSetup,
  type OperatorSetupOptions,
  type ServiceUserOptions,
  type UserCredentials,
  type UserPermissions,
} from './nats-credentials.js';
export { createLogger, type Logger, type LoggerConfig } from './logger.js';
export { CENSORED, describeError, isSensitiveKey, MAX_LOG_DEPTH, redactDeep } from './redact.js';
export {
  connectNats,
  ensureConsumer,
  ensureStream,
  ensureStreams,
  eventsStream,
  EVENTS_DUPLICATE_WINDOW_NS,
  NatsConnectError,
  type ConsumerSpec,
  type NatsConfig,
  type StreamSpec,
} from './nats.js';
export type { NatsAuth, NatsTls } from './nats-auth.js';
export {
  JetStreamPublisher,
  NoStreamError,
  PublishTimeoutError,
  type JetStreamPublishOptions,
} from './jetstream-publisher.js';
export {
  connectMongo,
  duplicatePositions,
  ensureIndexes,
  isDuplicateKeyError,
  type MongoConfig,
} from './mongo.js';
export {
  HashChain,
  chainPosition,
  chainVerificationReply,
  isChainRecordId,
  checkpointProblems,
  MAX_CHECKPOINT,
  type ChainDoc,
  type ChainedLog,
  type ChainEnd,
  type ChainPosition,
  type ChainVerification,
} from './hash-chain.js';
export { Batcher, GroupCommit, MAX_UPDATE_STATEMENTS, type Outcome } from './group-commit.js';
export { HealthRegistry, ServingStatus } from './health.js';
export {
  natsDependency,
  storeDependency,
  watchDependencies,
  type Dependency,
  type DependencyWatchOptions,
} from './dependency-health.js';
export { GRPC_CLIENT_OPTIONS, grpcChannelCredentials } from './grpc-client.js';
export {
  DEFAULT_MAX_CONNECTION_AGE_MS,
  DEFAULT_TLS_REFRESH_MS,
  startGrpcServer,
  type GrpcServerConfig,
  type GrpcServiceBinding,
  type RunningGrpcServer,
} from './grpc-server.js';
export {
  authenticateCall,
  authenticatedUnary,
  boundedViolations,
  fieldViolations,
  GrpcError,
  grpcErrorOf,
  invalidArgument,
  toStatus,
  unary,
  useCaseStatus,
  violationSummary,
  type CallContext,
  type FieldViolation,
  type UnaryOptions,
} from './grpc-handler.js';
export {
  IDEMPOTENCY_KEY,
  IDEMPOTENCY_KEY_METADATA,
  protoFieldName,
  RequestValidator,
  requestHash,
  type Complete,
  type Idempotency,
  type IdRule,
  type IdsRule,
  type TextOptions,
} from './request-validator.js';
export {
  AuthenticationError,
  createAuthenticator,
  createDevIssuer,
  DEFAULT_MAX_SERVICE_TOKEN_LIFETIME_SECONDS,
  DEFAULT_MAX_TOKEN_LIFETIME_SECONDS,
  DEFAULT_SERVICE_AUDIENCE,
  DEV_ISSUER,
  ROLES,
  type Door,
  type AuthConfig,
  type Authenticator,
  type AuthenticatorOptions,
  type DevIssuer,
  type Principal,
  type Role,
  type TokenClaims,
} from './auth.js';
export {
  SERVICE_IDENTITY_ENV,
  serviceIdentityFrom,
  serviceTokens,
  ServiceTokenError,
  type ServiceIdentityConfig,
  type ServiceTokenOptions,
  type TokenSource,
} from './service-identity.js';
export {
  secretDigest,
  startDevIdentityProvider,
  type DevClient,
  type DevIdentityProviderOptions,
  type RunningIdentityProvider,
} from './dev-identity-provider.js';
export { readBody } from './http-body.js';
export { OutboxRelay, type OutboxRelayOptions } from './outbox-relay.js';
export {
  type OutboxAnnouncer,
  type OutboxClaimFields,
  type OutboxDoc,
  type OutboxFields,
} from './outbox-document.js';
export { type OutboxBacklog } from './outbox-backlog.js';
export {
  type OutboxEntry,
  type OutboxEntryDoc,
  outboxEntry,
  readOutboxEntry,
  type StoredOutboxEntry,
} from './outbox-entry.js';
export {
  FullSweeps,
  marksFor,
  PendingMarks,
  pendingMarksDb,
  pendingMarksName,
  PendingSweep,
  type PendingMark,
  type PendingMarkDoc,
  type PendingMarksOptions,
  type PendingSweepOptions,
} from './pending-marks.js';
export { encodeEnvelope, tlpFromProto, tlpToProto, type EncodedEvent } from './wire.js';
export { ConcurrencyLimit } from './concurrency.js';
export {
  consumeDurable,
  consumerDependency,
  DecodingConsumer,
  DurableConsumer,
  DurableConsumerAdapter,
  redeliveryBackoff,
  redeliveryDelayMs,
  TerminateEvent,
  type DecodingConsumerOptions,
  type DurableConsumerOptions,
  type DurableConsumerSpec,
  type RedeliveryPolicy,
  type Settlement,
} from './durable-consumer.js';
export { DOOR_METADATA, doorOf, type GatewayDoor } from './door.js';
export { RateLimiter } from './rate-limit.js';
export { onShutdown } from './shutdown.js';
export { runProcess, type ProcessSpec, type StoppableProcess } from './process-main.js';
export { StopOrder } from './stop-order.js';
export { repeat, type Repeating } from './periodic.js';
export {
  cachedLoader,
  LATENCY_BUCKETS_SECONDS,
  Metrics,
  startMetricsServer,
  type Counter,
  type Gauge,
  type Histogram,
  type MetricsServerConfig,
  type RunningMetricsServer,
} from './metrics.js';
export { grpcCodeName, grpcServerMetrics, grpcType, splitGrpcPath } from './grpc-metrics.js';
export { watchConsumerLag, type ConsumerLagOptions, type ConsumerRef } from './jetstream-metrics.js';
export { watchOutbox } from './outbox-metrics.js';
export {
  activeSpanIds,
  currentTraceContext,
  currentTracing,
  grpcClientInterceptors,
  outboxTrace,
  startRpcServerSpan,
  startTracing,
  TRACING_ENV,
  tracingEnabled,
  withConsumerSpan,
  withHttpServerSpan,
  withProducerSpan,
  type HttpServerSpan,
  type RpcServerSpan,
  type TraceCarrier,
  type Tracing,
  type TracingOptions,
} from './tracing.js';
export {
  EVENTS_NATS_ENV,
  eventsNatsFrom,
  GRPC_PROCESS_ENV,
  grpcProcessConfigFrom,
  SERVICE_ENV,
  serviceConfigFrom,
  type EventsNats,
  type OwnServiceSettings,
  type ServiceConfig,
} from './service-config.js';
export {
  connectEvents,
  startService,
  type RunningService,
  type ServiceParts,
  type ServiceResources,
  type ServiceSpec,
} from './service-chassis.js';
