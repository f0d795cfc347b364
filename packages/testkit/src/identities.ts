import { PROCESS_SCOPES, type BeaconProcess, type ServiceScope } from '@beacon/domain';

/**
 * A test token's subject and scopes. A `service` token is one Beacon process's identity —
 * the response worker's (`workflows`) unless `subject` names another — with exactly that
 * process's scopes, as the local stack and a deployment issue them; anyone else is named by
 * agency and roles.
 */
export function testIdentity(
  roles: readonly string[],
  agencyId?: string,
  subject?: string,
): { readonly subject: string; readonly scopes?: readonly ServiceScope[] } {
  if (!roles.includes('service')) return { subject: subject ?? `${agencyId ?? 'cc'}-${roles.join('+')}` };
  const process = (subject ?? 'workflows') as BeaconProcess;
  if (!Object.hasOwn(PROCESS_SCOPES, process)) throw new Error(`${process} is not a Beacon process`);
  return { subject: process, scopes: PROCESS_SCOPES[process] };
}
