import type { Tlp } from '@beacon/domain';
import type { AssetScope } from '../domain/access.js';
import type { ImpactSummary } from '../domain/summary.js';
import type { Asset, Dependency } from '../domain/model.js';

export interface StoredAsset extends Asset {
  readonly version: number;
  readonly updatedAt: Date;
}

/** An incident's directly affected assets, as intake last announced them. */
export interface AffectedAsset {
  readonly assetId: string;
  readonly loss: number;
}

/**
 * An assessment as a reader cleared for `clearance` sees it, when that is below the
 * assessment's label: the summary over the assets within that clearance only.
 */
export interface AssessmentView extends ImpactSummary {
  readonly clearance: Tlp;
  /** The directly affected assets within the clearance (and those the registry does not know). */
  readonly affectedAssets: readonly AffectedAsset[];
  /** Assets the assessment names (affected or impacted) that this view leaves out. */
  readonly withheldAssets: number;
  /** The most restrictive label of the incident and the assets this view shows. */
  readonly tlp: Tlp;
}

export interface Assessment extends ImpactSummary {
  readonly id: string;
  /** Empty for a what-if assessment. */
  readonly incidentId: string;
  readonly affectedAssets: readonly AffectedAsset[];
  readonly unknownAssetIds: readonly string[];
  readonly crossSectorDependency: string;
  readonly potentialImpact: string;
  /**
   * The most restrictive label of the incident and every asset the assessment names (affected
   * or impacted): a reader cleared for it sees the whole assessment.
   */
  readonly tlp: Tlp;
  /**
   * Assets left out of what this reader is shown (0 in the stored assessment): every figure
   * above then covers the shown assets only.
   */
  readonly withheldAssets: number;
  /** Stored only: the view for each clearance below `tlp`, lowest first. */
  readonly views?: readonly AssessmentView[];
  /** The incident's own label and sectors, as intake announced them. */
  readonly incidentTlp: Tlp;
  readonly incidentSectors: readonly string[];
  readonly revision: number;
  readonly assessedAt: Date;
  /** Fingerprint of the result: a new revision only when it changes. */
  readonly digest: string;
}

/** What an incident tells impact: which assets it hits, its label and sectors. */
export interface IncidentFacts {
  readonly id: string;
  readonly tlp: Tlp;
  readonly sectors: readonly string[];
  readonly affectedAssets: readonly AffectedAsset[];
}

export interface Page<T> {
  readonly items: readonly T[];
  readonly next: string | undefined;
}

export interface RegistryStore {
  /** Streams the whole registry, for rebuilding the graph: every asset first. */
  load(onAsset: (asset: StoredAsset) => void, onDependency: (d: Dependency) => void): Promise<void>;
  /**
   * The registry's revision, raised (`changed`) after every stored change by whichever replica
   * made it: a `load` begun after reading a revision holds every change up to it.
   */
  revision(): Promise<number>;
  /** Raises the revision after a change is stored; returns the new one. */
  changed(): Promise<number>;
  getAsset(id: string): Promise<StoredAsset | undefined>;
  /** Creates (expectedVersion 0) or replaces at that version; throws ImpactError conflict otherwise. */
  putAsset(asset: Asset, expectedVersion: number, now: Date): Promise<StoredAsset>;
  /** Creates or replaces many at once; each asset's version goes up by one. */
  putAssets(assets: readonly Asset[], now: Date): Promise<void>;
  deleteAsset(id: string): Promise<boolean>;
  listAssets(
    scope: AssetScope,
    filter: { readonly operatorId?: string; readonly sector?: string },
    after: string | undefined,
    limit: number,
  ): Promise<Page<StoredAsset>>;
  dependenciesOf(dependentId: string): Promise<Dependency[]>;
  putDependencies(dependencies: readonly Dependency[]): Promise<void>;
  deleteDependency(d: Pick<Dependency, 'dependentId' | 'providerId' | 'kind'>): Promise<boolean>;
  /**
   * Removes every dependency naming the asset: its own, and `asProvider`, those of the assets
   * that need it (the graph knows them); returns how many.
   */
  deleteDependenciesOf(assetId: string, asProvider: readonly Dependency[]): Promise<number>;
  /** Dependencies by key order, for export. */
  dependencyPage(
    after: string | undefined,
    limit: number,
  ): Promise<Page<Dependency & { readonly key: string }>>;
}

export interface AssessmentStore {
  get(id: string): Promise<Assessment | undefined>;
  /**
   * Stores the assessment and, in the same write, its `impact.assessed` event, when its
   * digest differs from the stored one's; returns the stored assessment and whether it changed.
   */
  save(
    assessment: Omit<Assessment, 'revision'>,
    causeEventId?: string,
  ): Promise<{ assessment: Assessment; changed: boolean }>;
  /** Whether an incident event was already handled. */
  handled(assessmentId: string, eventId: string): Promise<boolean>;
  /** The incidents assessed so far, by id after `after`, as each last told impact. */
  incidentPage(after: string | undefined, limit: number): Promise<Page<IncidentFacts>>;
}

/** The incident's severity inputs, raised by what the cascade implies: done by intake. */
export interface SeverityFeed {
  raise(
    incidentId: string,
    inputs: { readonly crossSectorDependency: string; readonly potentialImpact: string },
  ): Promise<void>;
}

export interface Clock {
  now(): Date;
}
