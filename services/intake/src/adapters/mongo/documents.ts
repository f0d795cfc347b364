import type { OutboxFields } from '@beacon/platform';
import { TLP_LEVELS, type Classification, type NcissInputs, type Severity, type Tlp } from '@beacon/domain';
import type { AffectedAsset } from '../../domain/affected-asset.js';
import type { Incident, IncidentObservable, IncidentStatus, Report } from '../../domain/incident.js';
import type { ReportPlan } from '../../app/ports.js';

export type { OutboxEntryDoc, OutboxFields } from '@beacon/platform';

export interface AffectedAssetDoc {
  assetId: string;
  loss: number;
}

export interface IncidentDoc extends OutboxFields {
  _id: string;
  title: string;
  status: IncidentStatus;
  tlp: Tlp;
  /** The label's rank (CLEAR 0 … RED 4), so scope filters can compare labels. */
  tlpRank: number;
  classification: Classification;
  sectors: string[];
  jurisdictions: string[];
  severityInputs: NcissInputs;
  severity: Severity;
  reportIds: string[];
  engagedAgencyIds: string[];
  /** Absent when a coordinator opened the incident. */
  sourceAgencyId?: string;
  reporterAgencyIds: string[];
  observables: IncidentObservable[];
  /** Absent on documents stored before intake recorded affected assets: read as none. */
  affectedAssets?: AffectedAssetDoc[];
  awareAt: Date;
  openedAt: Date;
  updatedAt: Date;
  version: number;
}

export interface ReportDoc {
  _id: string;
  incidentId: string;
  /** Absent when the coordination centre filed the report. */
  reporterAgencyId?: string;
  title: string;
  description: string;
  tlp: Tlp;
  classification: Classification;
  sectors: string[];
  jurisdictions: string[];
  observables: { type: string; value: string }[];
  /** Absent on documents stored before intake recorded affected assets: read as none. */
  affectedAssets?: AffectedAssetDoc[];
  awareAt: Date;
  submittedAt: Date;
  opensIncident: boolean;
  linked: boolean;
}

const affectedAssetsToDoc = (assets: readonly AffectedAsset[]): AffectedAssetDoc[] =>
  assets.map(({ assetId, loss }) => ({ assetId, loss }));

const affectedAssetsFromDoc = (docs: readonly AffectedAssetDoc[] | undefined): AffectedAsset[] =>
  (docs ?? []).map(({ assetId, loss }) => ({ assetId, loss }));

export const tlpRank = (tlp: Tlp): number => TLP_LEVELS.indexOf(tlp);

/** The incident's own fields as stored (the outbox is written separately). */
export function incidentFields(incident: Incident): Omit<IncidentDoc, '_id' | keyof OutboxFields> {
  const { id: _omitted, sourceAgencyId, ...rest } = incident;
  return {
    ...rest,
    ...(sourceAgencyId === undefined ? {} : { sourceAgencyId }),
    sectors: [...rest.sectors],
    jurisdictions: [...rest.jurisdictions],
    reportIds: [...rest.reportIds],
    engagedAgencyIds: [...rest.engagedAgencyIds],
    reporterAgencyIds: [...rest.reporterAgencyIds],
    observables: rest.observables.map((o) => ({ ...o })),
    affectedAssets: affectedAssetsToDoc(rest.affectedAssets),
    tlpRank: tlpRank(incident.tlp),
  };
}

export function incidentFromDoc(doc: IncidentDoc): Incident {
  return {
    id: doc._id,
    title: doc.title,
    status: doc.status,
    tlp: doc.tlp,
    classification: doc.classification,
    sectors: doc.sectors,
    jurisdictions: doc.jurisdictions,
    severityInputs: doc.severityInputs,
    severity: doc.severity,
    reportIds: doc.reportIds,
    engagedAgencyIds: doc.engagedAgencyIds,
    sourceAgencyId: doc.sourceAgencyId,
    reporterAgencyIds: doc.reporterAgencyIds,
    observables: doc.observables,
    affectedAssets: affectedAssetsFromDoc(doc.affectedAssets),
    awareAt: doc.awareAt,
    openedAt: doc.openedAt,
    updatedAt: doc.updatedAt,
    version: doc.version,
  };
}

export function reportToDoc(report: Report, plan: ReportPlan): ReportDoc {
  return {
    _id: report.id,
    incidentId: report.incidentId,
    ...(report.reporterAgencyId === undefined ? {} : { reporterAgencyId: report.reporterAgencyId }),
    title: report.title,
    description: report.description,
    tlp: report.tlp,
    classification: report.classification,
    sectors: [...report.sectors],
    jurisdictions: [...report.jurisdictions],
    observables: report.observables.map(({ type, value }) => ({ type, value })),
    affectedAssets: affectedAssetsToDoc(report.affectedAssets),
    awareAt: report.awareAt,
    submittedAt: report.submittedAt,
    opensIncident: plan.opensIncident,
    linked: false,
  };
}

export function reportFromDoc(doc: ReportDoc): { report: Report; plan: ReportPlan; linked: boolean } {
  return {
    report: {
      id: doc._id,
      incidentId: doc.incidentId,
      reporterAgencyId: doc.reporterAgencyId ?? undefined,
      title: doc.title,
      description: doc.description,
      tlp: doc.tlp,
      classification: doc.classification,
      sectors: doc.sectors,
      jurisdictions: doc.jurisdictions,
      observables: doc.observables as Report['observables'],
      affectedAssets: affectedAssetsFromDoc(doc.affectedAssets),
      awareAt: doc.awareAt,
      submittedAt: doc.submittedAt,
    },
    plan: { incidentId: doc.incidentId, opensIncident: doc.opensIncident },
    linked: doc.linked,
  };
}
