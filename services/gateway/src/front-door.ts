import { Metadata, status } from '@grpc/grpc-js';
import {
  AuthenticationError,
  DOOR_METADATA,
  GrpcError,
  type GatewayDoor,
  invalidArgument,
  type Authenticator,
  type Principal,
} from '@beacon/platform';
import type { Admission } from './admission.js';
import { FORWARDED_METADATA, type Upstream } from './upstream.js';

export interface FrontDoorOptions {
  readonly authenticator: Authenticator;
  /** Upstream per fully qualified service name. */
  readonly upstreams: ReadonlyMap<string, Upstream>;
  /** Limits per address, on failed verifications and per subject; token pre-checks. */
  readonly admission: Admission;
  /** The longest a call may take, whatever deadline the client asked for. */
  readonly maxCallMs: number;
}

/** What both the gRPC and the REST front ends hand over per call. */
export interface Inbound {
  /** e.g. `beacon.intake.v1.IntakeService` */
  readonly service: string;
  readonly rpc: string;
  readonly request: Buffer;
  /** Header or metadata values by lower-case name. */
  readonly headers: (name: string) => string | undefined;
  readonly deadline: Date;
  readonly signal: AbortSignal;
  /** The client's address as `admit` found it, passed on for the services' own limits. */
  readonly clientAddress: string;
  /** The door the call came through, named to the service (`DOOR_METADATA`). */
  readonly door: GatewayDoor;
}

/** An admitted caller. */
export interface Admitted {
  readonly principal: Principal;
  /** The client's address (behind a trusted proxy, the one it forwarded). */
  readonly clientAddress: string;
}

/**
 * Metadata naming the client's address to the service behind the gateway (for its own
 * per-address limits). Set by the gateway only: a client's own value never passes the door.
 */
export const CLIENT_ADDRESS_METADATA = 'x-beacon-client-address';

/**
 * The one path every call takes through the gateway: `admit` (authenticate, limit the caller's
 * rate), then `forward` to the owning service with the caller's credentials and the earlier
 * deadline.
 * Object-level authorisation stays with the services, which own the objects.
 */
export class FrontDoor {
  constructor(private readonly options: FrontDoorOptions) {}

  /**
   * Authenticates the caller and takes one call from its rate budgets. The REST door does this
   * before reading the request body, so anonymous or over-eager callers cost next to nothing.
   * `peer` is the connection's remote address.
   */
  async admit(headers: (name: string) => string | undefined, peer: string | undefined): Promise<Admitted> {
    const { admission } = this.options;
    const address = admission.clientAddress(peer, headers('x-forwarded-for'));
    const authorization = headers('authorization');
    const key = admission.beforeVerification(address, authorization);
    let principal: Principal;
    try {
      principal = await this.#authenticate(authorization);
    } catch (error) {
      if (error instanceof GrpcError && error.code !== status.UNAVAILABLE) admission.failed(key);
      throw error;
    }
    admission.verified(principal.subject);
    return { principal, clientAddress: address };
  }

  /**
   * Takes one call from the client address's budget, for what needs no token but costs the
   * gateway something (readiness asks intake; the OpenAPI document is large).
   */
  throttle(headers: (name: string) => string | undefined, peer: string | undefined): void {
    const { admission } = this.options;
    admission.throttle(admission.clientAddress(peer, headers('x-forwarded-for')));
  }

  /** Forwards an admitted call to the service that owns it. */
  async forward(inbound: Inbound): Promise<Buffer> {
    const upstream = this.#upstream(inbound.service);
    const metadata = this.#metadata(inbound);
    const deadline = new Date(Math.min(inbound.deadline.getTime(), Date.now() + this.options.maxCallMs));
    return upstream.call(
      `/${inbound.service}/${inbound.rpc}`,
      inbound.request,
      metadata,
      deadline,
      inbound.signal,
    );
  }

  /**
   * Opens an admitted server stream on the service that owns it. A stream lives as long as
   * the client keeps it (a feed), so only the client's own deadline bounds it.
   */
  openStream(inbound: Omit<Inbound, 'deadline'> & { readonly deadline: Date | undefined }) {
    const upstream = this.#upstream(inbound.service);
    return upstream.stream(
      `/${inbound.service}/${inbound.rpc}`,
      inbound.request,
      this.#metadata(inbound),
      inbound.deadline,
    );
  }

  #upstream(service: string): Upstream {
    const upstream = this.options.upstreams.get(service);
    if (!upstream) throw new GrpcError(status.UNIMPLEMENTED, `no service ${service}`);
    return upstream;
  }

  #metadata(inbound: Pick<Inbound, 'headers' | 'clientAddress' | 'door'>): Metadata {
    const metadata = new Metadata();
    if (inbound.clientAddress) metadata.set(CLIENT_ADDRESS_METADATA, inbound.clientAddress);
    // Set here only: a client's own value is not among the forwarded names, so it never passes.
    metadata.set(DOOR_METADATA, inbound.door);
    for (const name of FORWARDED_METADATA) {
      const value = inbound.headers(name);
      if (value === undefined) continue;
      // gRPC metadata values are printable ASCII; anything else is the caller's mistake.
      if (!/^[\x20-\x7e]*$/.test(value) || value.length > 8_192) {
        throw invalidArgument([
          { field: name, description: 'must be printable ASCII, at most 8 KiB', reason: 'INVALID_HEADER' },
        ]);
      }
      metadata.set(name, value);
    }
    return metadata;
  }

  async #authenticate(authorization: string | undefined): Promise<Principal> {
    try {
      const principal = await this.options.authenticator.authenticate(authorization);
      // Service identities belong to the internal network. The public door's authenticator
      // already refuses their audience; this holds even for one configured otherwise, and
      // answers exactly as for any invalid token.
      if (principal.roles.includes('service')) throw new AuthenticationError('the bearer token is not valid');
      return principal;
    } catch (error) {
      if (error instanceof AuthenticationError) throw new GrpcError(status.UNAUTHENTICATED, error.message);
      throw error;
    }
  }
}
