import type { DescriptorSet, MethodDescriptor } from './openapi.js';
import type { Route } from './routes.js';

/** `google.api.http` as buf's JSON image renders it: the verbs Beacon binds. */
interface HttpRule {
  readonly get?: string;
  readonly post?: string;
  readonly body?: string;
}

/** `beacon.api.v1.rest`: what the REST door needs besides the binding. */
interface RestOptions {
  readonly summary?: string;
  readonly created?: boolean;
  readonly idempotent?: boolean;
  readonly internalOnly?: boolean;
}

/** A contract the route table cannot be made from: which RPC, and what to fix. */
export class BindingError extends Error {
  override readonly name = 'BindingError';
}

/**
 * The gateway's route table from the contracts: one route per RPC of a Beacon service, from its
 * `google.api.http` binding and its `beacon.api.v1.rest` options, in the order of the files and
 * the RPCs in them. Every RPC has a binding or says it is `internal_only`; a GET carries no
 * body, a POST carries the whole request (`body: "*"`), and each route has a summary.
 */
export function routesFromDescriptors(descriptors: DescriptorSet): Route[] {
  const routes: Route[] = [];
  for (const file of descriptors.file) {
    if (!file.package?.startsWith('beacon.')) continue;
    for (const service of file.service ?? []) {
      for (const method of service.method) {
        const route = routeOf(`${file.package}.${service.name}`, method);
        if (route) routes.push(route);
      }
    }
  }
  return routes;
}

function routeOf(service: string, method: MethodDescriptor): Route | undefined {
  const where = `${service}/${method.name}`;
  const http = method.options?.['[google.api.http]'] as HttpRule | undefined;
  const rest = (method.options?.['[beacon.api.v1.rest]'] ?? {}) as RestOptions;
  if (!http) {
    if (rest.internalOnly) return undefined;
    throw new BindingError(
      `${where} has no REST binding: give it option (google.api.http), or (beacon.api.v1.rest) = {internal_only: true}`,
    );
  }
  if (rest.internalOnly) throw new BindingError(`${where} is internal_only and yet has a REST binding`);
  const binding =
    http.get !== undefined && http.post === undefined
      ? { method: 'GET' as const, path: http.get, body: false }
      : http.post !== undefined && http.get === undefined
        ? { method: 'POST' as const, path: http.post, body: true }
        : undefined;
  if (!binding) throw new BindingError(`${where}: bind it with exactly one of get or post`);
  if (binding.body !== (http.body === '*')) {
    throw new BindingError(`${where}: a GET has no body; a POST takes the whole request (body: "*")`);
  }
  if (!rest.summary) throw new BindingError(`${where} has no summary in (beacon.api.v1.rest)`);
  return {
    service,
    rpc: method.name,
    ...binding,
    ...(rest.created ? { created: true } : {}),
    ...(rest.idempotent ? { idempotent: true } : {}),
    summary: rest.summary,
  };
}
