import { Metadata, status, type ServiceError } from '@grpc/grpc-js';
import type { Recipients } from '@beacon/domain';
import { GrpcError, tlpFromProto } from '@beacon/platform';
import type { intakeV1 } from '@beacon/proto';

/** What a response call carries that intake needs to answer as the same caller. */
export interface CallerCredentials {
  /** The caller's own `authorization` value, passed on unchanged. */
  readonly authorization: string;
  readonly deadline: Date;
  readonly signal: AbortSignal;
}

/** What the response API needs of an incident: who may read it, and its title to show. */
export interface IncidentView extends Recipients {
  readonly title: string;
}

/**
 * The incident as intake has it now, read as the caller: its label and named recipients, or
 * `undefined` when intake does not show it to this caller (a hidden incident and a missing one
 * are the same answer there, as here).
 */
export interface IncidentReader {
  read(incidentId: string, credentials: CallerCredentials): Promise<IncidentView | undefined>;
}

/**
 * Answers a response call's question "may this caller see this incident" with intake's own
 * answer, so the response API never holds a copy of who is engaged or how an incident is
 * labelled that could be older than intake's: the caller's token goes to `GetIncident`, and
 * intake's policy decides first; the response API then asks the same policy (`@beacon/domain`'s
 * trust rules) about what intake returned.
 */
export function intakeIncidentReader(
  intake: Pick<intakeV1.IntakeServiceClient, 'getIncident'>,
): IncidentReader {
  return {
    async read(incidentId, { authorization, deadline, signal }) {
      const metadata = new Metadata();
      metadata.set('authorization', authorization);
      let response: intakeV1.GetIncidentResponse;
      try {
        response = await new Promise<intakeV1.GetIncidentResponse>((resolve, reject) => {
          const call = intake.getIncident({ incidentId }, metadata, { deadline }, (error, answer) =>
            error ? reject(error) : resolve(answer),
          );
          signal.addEventListener('abort', () => call.cancel(), { once: true });
        });
      } catch (error) {
        return unreadable(error);
      }
      const incident = response.incident;
      if (!incident) return undefined;
      return {
        // An unknown label reads as the most restrictive one, never as an open one.
        tlp: tlpFromProto(incident.tlp) ?? 'RED',
        sourceAgencyId: incident.sourceAgencyId || undefined,
        engagedAgencyIds: [...incident.engagedAgencyIds],
        title: incident.title,
      };
    },
  };
}

/**
 * Intake's refusals that mean "not for this caller": not found (missing or hidden), refused,
 * or an id intake would never have issued. Anything else is intake failing, which the caller
 * must not mistake for an answer about the incident.
 */
function unreadable(error: unknown): undefined {
  const code = (error as Partial<ServiceError> | undefined)?.code;
  if (code === status.NOT_FOUND || code === status.PERMISSION_DENIED || code === status.INVALID_ARGUMENT) {
    return undefined;
  }
  if (code === status.DEADLINE_EXCEEDED || code === status.CANCELLED) {
    throw new GrpcError(code, 'the incident could not be checked in time', { cause: error });
  }
  throw new GrpcError(status.UNAVAILABLE, 'the incident could not be checked; try again', {
    cause: error,
  });
}
