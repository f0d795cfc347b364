import type { NatsConnection } from '@nats-io/nats-core';
import type { Client } from '@temporalio/client';
import type { Logger } from '@beacon/platform';

/** What each consumer that turns Beacon's events into workflow starts or signals is given. */
export interface EventSignallerOptions {
  readonly nc: NatsConnection;
  /** The events stream, `BEACON_EVENTS`. */
  readonly stream: string;
  readonly subjectRoot: string;
  /** Shared by every replica, so each event is handled once. */
  readonly durable: string;
  readonly client: Client;
  readonly logger: Logger;
}
