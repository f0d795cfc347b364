import { disclosureThreshold } from '@beacon/domain';
import { statsScope, type Caller } from '../domain/access.js';
import { releaseStats, StatsAccumulator, type ReleasedVictimStats } from '../domain/stats.js';
import { refuse, type VictimsDeps } from './case-work.js';

/** Counts over the cases in the caller's scope, one attribute at a time, small counts suppressed. */
export async function victimStats(
  deps: VictimsDeps,
  caller: Caller,
  filter: { readonly incidentId?: string; readonly jurisdiction?: string },
): Promise<ReleasedVictimStats> {
  const scope = statsScope(caller);
  if (!scope) throw refuse('victim statistics are for coordinators, auditors, services and victim officers');
  const accumulator = new StatsAccumulator();
  await deps.cases.scan(scope, filter, (state) => accumulator.add(state));
  // Suppressed for every caller, victim officers included: statistics are shared as figures,
  // not read as cases (an officer reads its cases themselves through the case RPCs).
  return releaseStats(accumulator.result(), disclosureThreshold(deps.statsThreshold));
}
