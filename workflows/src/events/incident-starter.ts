import { WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import { DurableConsumer, type Dependency } from '@beacon/platform';
import { intakeV1 } from '@beacon/proto';
import type { ResponsePolicy } from '../domain/policy.js';
import { responseWorkflowId, SEARCH_ATTRIBUTES } from '../workflows/definitions.js';
import type { EventSignallerOptions } from './event-signaller-options.js';
import type { incidentResponse } from '../workflows/index.js';

export interface IncidentStarterOptions extends EventSignallerOptions {
  readonly taskQueue: string;
  /** For responses started from here on; the workflows' default when absent. */
  readonly policy?: ResponsePolicy;
}

/**
 * Starts an IncidentResponse for every `incident.opened` event, exactly once per incident: the
 * workflow id is the incident's, a running response is reused (conflict policy USE_EXISTING)
 * and a closed one is never started again (reuse policy REJECT_DUPLICATE), so a redelivered or
 * replayed event, or two starter replicas, never start a second response.
 */
export class IncidentStarter {
  readonly #consumer: DurableConsumer;

  constructor(private readonly options: IncidentStarterOptions) {
    this.#consumer = new DurableConsumer({
      nc: options.nc,
      stream: options.stream,
      subjects: [`${options.subjectRoot}.incident.opened`],
      durable: options.durable,
      logger: options.logger,
      handle: async (envelope) => {
        const { incident } = intakeV1.IncidentOpened.decode(envelope.data);
        const incidentId = incident?.id || envelope.incidentId;
        if (!incidentId) {
          options.logger.error({ eventId: envelope.id }, 'incident.opened without an incident id; skipped');
          return;
        }
        await this.startResponse(incidentId);
      },
    });
  }

  async start(): Promise<void> {
    await this.#consumer.start();
  }

  stop(): Promise<void> {
    return this.#consumer.stop();
  }

  /** For the process's readiness: consuming, its durable there. */
  health(): Dependency {
    return this.#consumer.health();
  }

  /** Starts the incident's response unless it runs (then it is left alone) or ran already. */
  async startResponse(incidentId: string): Promise<'started-or-running' | 'done'> {
    const { client, taskQueue, logger, policy } = this.options;
    const workflowId = responseWorkflowId(incidentId);
    try {
      const handle = await client.workflow.start<typeof incidentResponse>('incidentResponse', {
        taskQueue,
        workflowId,
        args: [{ incidentId, ...(policy ? { policy } : {}) }],
        workflowIdReusePolicy: 'REJECT_DUPLICATE',
        workflowIdConflictPolicy: 'USE_EXISTING',
        typedSearchAttributes: [
          { key: SEARCH_ATTRIBUTES.IncidentId, value: incidentId },
          { key: SEARCH_ATTRIBUTES.IncidentStatus, value: 'triage' },
        ],
      });
      // USE_EXISTING hands back the running execution when there is one.
      logger.info(
        { incidentId, workflowId, runId: handle.firstExecutionRunId },
        'incident response started, or already running',
      );
      return 'started-or-running';
    } catch (error) {
      if (error instanceof WorkflowExecutionAlreadyStartedError) {
        logger.info({ incidentId, workflowId }, 'incident response already ran; not started again');
        return 'done';
      }
      throw error;
    }
  }
}
