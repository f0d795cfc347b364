import type { IncidentLifecycle } from '../activities/types.js';

/** Forward order of an incident's lifecycle: the response never moves an incident back. */
const ORDER: readonly IncidentLifecycle[] = [
  'reported',
  'triage',
  'active',
  'contained',
  'resolved',
  'closed',
];

/** Whether an incident in `status` is at `to` already, or further along (a coordinator moved it). */
export function atOrPast(status: IncidentLifecycle, to: IncidentLifecycle): boolean {
  return ORDER.indexOf(status) >= ORDER.indexOf(to);
}
