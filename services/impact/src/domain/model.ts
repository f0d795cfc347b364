import { controlCharacterProblem, isSector, parseJurisdiction, type Sector, type Tlp } from '@beacon/domain';

/** What one asset needs from another. */
export const DEPENDENCY_KINDS = [
  'power',
  'water',
  'communications',
  'transport',
  'fuel',
  'it-cloud',
  'finance',
  'supply',
] as const;
export type DependencyKind = (typeof DEPENDENCY_KINDS)[number];

export function isDependencyKind(value: string): value is DependencyKind {
  return (DEPENDENCY_KINDS as readonly string[]).includes(value);
}

/** How much losing the asset matters beyond the people it serves: 1 (local) to 5 (national). */
export type Criticality = 1 | 2 | 3 | 4 | 5;

/** A piece of critical infrastructure in the registry. */
export interface Asset {
  readonly id: string;
  readonly name: string;
  /** The agency that operates it; operators see only their own assets. */
  readonly operatorId: string;
  readonly sector: Sector;
  /** ISO 3166 code, e.g. "DE-BY". */
  readonly jurisdiction: string;
  /**
   * Where it is, for maps; absent when its coordinates are not known. The cascade does not
   * need them: dependencies, not distances, carry the impact.
   */
  readonly location?: { readonly lat: number; readonly lon: number };
  /** People who lose a service when the asset fails completely. */
  readonly populationServed: number;
  readonly criticality: Criticality;
  /** What it provides, e.g. "electricity", "drinking-water", "emergency-care". */
  readonly services: readonly string[];
  /** Label of the asset's details; coordinators and its operator see it within clearance. */
  readonly tlp: Tlp;
}

/**
 * `dependentId` needs `providerId`. When the provider loses a fraction x of its service at
 * hour t, the dependent first rides out `backupHours` on its own backup (generators, tanks,
 * a second carrier) and then `timeToImpactHours` on its buffers, so it loses
 * `degradation` × x from hour t + backupHours + timeToImpactHours on.
 */
export interface Dependency {
  readonly dependentId: string;
  readonly providerId: string;
  readonly kind: DependencyKind;
  readonly timeToImpactHours: number;
  /** Fraction of the dependent's service lost when the provider fails completely, in (0, 1]. */
  readonly degradation: number;
  /** How long the dependent's backup covers the loss; 0 when it has none. */
  readonly backupHours: number;
}

/** A dependency is identified by who needs whom for what. */
export function dependencyKey(d: Pick<Dependency, 'dependentId' | 'providerId' | 'kind'>): string {
  return `${d.dependentId}|${d.providerId}|${d.kind}`;
}

/** Longest time-to-impact or backup the registry accepts: one year. */
export const MAX_DELAY_HOURS = 24 * 365;

/** Why a dependency cannot be stored; `field` names the offending field. */
export interface DependencyProblem {
  readonly field: keyof Dependency;
  readonly message: string;
}

/**
 * The rules a dependency obeys on its own. Cycles are allowed (a substation's control centre
 * needs the power it controls); a self-loop is not, nor a negative or unbounded time.
 */
export function dependencyProblems(d: Dependency): DependencyProblem[] {
  const problems: DependencyProblem[] = [];
  if (!isDependencyKind(d.kind))
    problems.push({ field: 'kind', message: `must be one of ${DEPENDENCY_KINDS.join(', ')}` });
  if (d.dependentId === d.providerId) {
    problems.push({ field: 'providerId', message: 'an asset cannot depend on itself' });
  }
  for (const field of ['timeToImpactHours', 'backupHours'] as const) {
    const value = d[field];
    if (!Number.isFinite(value) || value < 0) problems.push({ field, message: 'must be zero or more hours' });
    else if (value > MAX_DELAY_HOURS)
      problems.push({ field, message: `must be at most ${MAX_DELAY_HOURS} hours` });
  }
  if (!Number.isFinite(d.degradation) || d.degradation <= 0 || d.degradation > 1) {
    problems.push({ field: 'degradation', message: 'must be a fraction in (0, 1]' });
  }
  return problems;
}

export const ASSET_ID = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;
export const AGENCY_ID = /^[a-z0-9][a-z0-9-]{0,62}$/;
export const MAX_SERVICES = 20;

/** Why an asset cannot be stored; `field` names the offending field. */
export interface AssetProblem {
  readonly field: keyof Asset | 'location.lat' | 'location.lon';
  readonly message: string;
}

/** The rules an asset obeys on its own. */
export function assetProblems(a: Asset): AssetProblem[] {
  const problems: AssetProblem[] = [];
  const fail = (field: AssetProblem['field'], message: string) => problems.push({ field, message });
  if (!ASSET_ID.test(a.id))
    fail('id', 'must be 1 to 128 letters, digits or . _ : - starting with a letter or digit');
  if (a.name.trim() === '' || a.name.length > 200) fail('name', 'is required, at most 200 characters');
  const control = controlCharacterProblem(a.name);
  if (control) fail('name', control);
  if (!AGENCY_ID.test(a.operatorId))
    fail('operatorId', 'must be an agency id: lowercase letters, digits and -');
  if (!isSector(a.sector)) fail('sector', 'is not a CISA sector id');
  if (!parseJurisdiction(a.jurisdiction)) fail('jurisdiction', 'is not an ISO 3166 code');
  if (a.location && !(Math.abs(a.location.lat) <= 90)) fail('location.lat', 'must be within -90 to 90');
  if (a.location && !(Math.abs(a.location.lon) <= 180)) fail('location.lon', 'must be within -180 to 180');
  if (!Number.isInteger(a.populationServed) || a.populationServed < 0)
    fail('populationServed', 'must be a whole number of people');
  if (!Number.isInteger(a.criticality) || a.criticality < 1 || a.criticality > 5)
    fail('criticality', 'must be 1 to 5');
  if (a.services.length > MAX_SERVICES || a.services.some((s) => !/^[a-z0-9][a-z0-9-]{0,63}$/.test(s))) {
    fail('services', `at most ${MAX_SERVICES}, each lowercase letters, digits and -`);
  }
  return problems;
}
