/**
 * The REST face of each RPC, generated from its `google.api.http` binding in `proto/`: one
 * table drives the HTTP router and the OpenAPI document, so neither restates the contract.
 * Paths follow Google's API design guide (custom methods after a colon). RPCs only a Beacon
 * process may call (victims' `RewrapKeys`, the key-rotation job's) are `internal_only`: the
 * gateway refuses service identities, so they are reached on the internal network.
 */
export interface Route {
  /** Fully qualified service and method, e.g. `beacon.intake.v1.IntakeService/SubmitReport`. */
  readonly service: string;
  readonly rpc: string;
  readonly method: 'GET' | 'POST';
  /** Path with `{field}` placeholders naming request fields (proto names). */
  readonly path: string;
  /** Whether the request body carries the rest of the request (POST) or the query does (GET). */
  readonly body: boolean;
  /** 201 for calls that create; 200 otherwise. */
  readonly created?: boolean;
  /** Honours the `Idempotency-Key` header. */
  readonly idempotent?: boolean;
  readonly summary: string;
}

/** Every route, generated from the contracts (`scripts/gen-rest.ts`). */
export { ROUTES } from './gen/routes.js';
