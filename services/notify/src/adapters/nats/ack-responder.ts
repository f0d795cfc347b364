import type { NatsConnection, Subscription } from '@nats-io/nats-core';
import type { Logger } from '@beacon/platform';
import { NotifyError } from '../../app/errors.js';
import type { NotifyService } from '../../app/notify-service.js';

/**
 * Acknowledgements by NATS request on `<root>.<agencyId>.<incidentId>` (body: an optional
 * note), answered with JSON. Agencies' credentials allow publishing only under their own id,
 * so the NATS server has already proven who is acknowledging; replicas share the work in a
 * queue group.
 */
export class AckResponder {
  #subscription: Subscription | undefined;
  #done: Promise<void> | undefined;

  constructor(
    private readonly options: {
      readonly nc: NatsConnection;
      readonly root: string;
      readonly service: NotifyService;
      readonly logger: Logger;
    },
  ) {}

  start(): void {
    const { nc, root } = this.options;
    this.#subscription = nc.subscribe(`${root}.*.*`, { queue: 'notify' });
    this.#done = (async () => {
      for await (const message of this.#subscription!) {
        const [agencyId = '', incidentId = ''] = message.subject.slice(root.length + 1).split('.');
        const note = new TextDecoder().decode(message.data).slice(0, 2_000).trim();
        const answer = await this.options.service
          .acknowledge(undefined, agencyId, incidentId, note, 'feed')
          .then(
            (result) => ({
              ok: true,
              first: result.first,
              acknowledgedAt: result.acknowledgedAt.toISOString(),
            }),
            (error: unknown) => {
              if (error instanceof NotifyError)
                return { ok: false, error: error.kind, message: error.message };
              this.options.logger.error(
                { err: error, agencyId, incidentId },
                'acknowledgement by request failed',
              );
              return { ok: false, error: 'internal', message: 'try again' };
            },
          );
        message.respond(JSON.stringify(answer));
      }
    })();
  }

  async stop(): Promise<void> {
    this.#subscription?.unsubscribe();
    await this.#done;
  }
}
