import { Metadata, status, type ChannelCredentials, type ServiceError } from '@grpc/grpc-js';
import { GRPC_CLIENT_OPTIONS, grpcClientInterceptors, type TokenSource } from '@beacon/platform';
import { type commonV1, intakeV1 } from '@beacon/proto';
import { NCISS_INPUTS } from '@beacon/domain';
import type { SeverityFeed } from '../../app/ports.js';

const rankOf = (scale: readonly string[], value: string) => scale.indexOf(value);

/**
 * Raises an incident's cross-sector dependency and potential impact in intake to what the
 * cascade implies, never lowering anyone's judgement, as the cascade's (basis CASCADE: intake
 * records the inputs it raises as impact's, beside the reporter's and coordinators'). Calls with impact's own service
 * identity (`token`, asked on each use so a renewed token takes effect), over the process's
 * gRPC client credentials (plaintext or TLS).
 */
export class IntakeSeverityFeed implements SeverityFeed {
  readonly #client: intakeV1.IntakeServiceClient;

  constructor(
    address: string,
    private readonly token: TokenSource,
    credentials: ChannelCredentials,
  ) {
    this.#client = new intakeV1.IntakeServiceClient(address, credentials, {
      ...GRPC_CLIENT_OPTIONS,
      interceptors: grpcClientInterceptors(),
    });
  }

  async raise(
    incidentId: string,
    implied: { readonly crossSectorDependency: string; readonly potentialImpact: string },
  ): Promise<void> {
    const metadata = new Metadata();
    metadata.set('authorization', `Bearer ${await this.token()}`);
    for (let attempt = 0; ; attempt++) {
      const { incident } = await this.#call<intakeV1.GetIncidentResponse>((done) =>
        this.#client.getIncident({ incidentId }, metadata, { deadline: Date.now() + 10_000 }, done),
      );
      const current = incident?.severityInputs;
      if (!incident || !current) return;
      const next: commonV1.SeverityInputs = {
        ...current,
        crossSectorDependency: higher(
          NCISS_INPUTS.crossSectorDependency,
          current.crossSectorDependency,
          implied.crossSectorDependency,
        ),
        potentialImpact: higher(
          NCISS_INPUTS.potentialImpact,
          current.potentialImpact,
          implied.potentialImpact,
        ),
      };
      if (
        next.crossSectorDependency === current.crossSectorDependency &&
        next.potentialImpact === current.potentialImpact
      ) {
        return;
      }
      try {
        await this.#call((done) =>
          this.#client.updateSeverity(
            {
              incidentId,
              severityInputs: next,
              expectedVersion: incident.version,
              basis: intakeV1.SeverityBasis.SEVERITY_BASIS_CASCADE,
            },
            metadata,
            { deadline: Date.now() + 10_000 },
            done,
          ),
        );
        return;
      } catch (error) {
        // Someone changed the incident meanwhile: read it again and re-apply.
        if ((error as ServiceError).code === status.ABORTED && attempt < 5) continue;
        throw error;
      }
    }
  }

  close(): void {
    this.#client.close();
  }

  #call<T>(start: (done: (error: ServiceError | null, response?: T) => void) => void): Promise<T> {
    return new Promise((resolve, reject) =>
      start((error, response) => (error ? reject(error) : resolve(response!))),
    );
  }
}

function higher(scale: readonly string[], current: string, implied: string): string {
  return rankOf(scale, implied) > rankOf(scale, current) ? implied : current;
}
