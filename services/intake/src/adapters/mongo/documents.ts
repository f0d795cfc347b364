import type { OutboxFields } from '@beacon/platform';
import {
  TLP_LEVELS,
  type Classification,
  type NcissInputs,
  type PartialNcissInputs,
  type Severity,
  type Tlp,
} from '@beacon/domain';
import type { AffectedAsset } from '../../domain/affected-asset.js';
import type { Incident, IncidentObservable, IncidentStatus, Report } from '../../domain/incident.js';
import type { SeverityOrigin, SeverityOrigins, SeverityProposal } from '../../domain/severity.js';
import type { AuditRecord, ReportPlan, StoredReport } from '../../app/ports.js';

export type { OutboxFields, StoredOutboxEntry } from '@beacon/platform';

export interface AffectedAssetDoc {
  assetId: string;
  loss: number;
}

/** An audit record as stored with its change until it is in the log. */
export interface AuditRecordDoc {
  actor: string;
  /** Null when the caller has no agency. */
  agencyId: string | null;
  action: string;
  objectId: string;
  tlp: string;
  at: Date;
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
  /** Absent on documents stored before intake recorded origins: read as none (baseline). */
  severityOrigins?: Record<string, SeverityOriginDoc>;
  /** Absent on documents stored before intake kept proposals: read as none. */
  severityProposals?: SeverityProposalDoc[];
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
  /** Audit records of changes stored but not yet in the audit log, by key. */
  auditPending?: Record<string, AuditRecordDoc>;
  /** The survivor, once merged (absent or null: not merged). */
  mergedInto?: string | null;
  /** Incidents merged into this one. */
  mergedIncidentIds?: string[] | null;
  /** A merge of this incident not yet known to be in the survivor (see `MergePending`). */
  mergePending?: {
    survivorId: string;
    awareAt: Date;
    actor: string;
    actorAgencyId?: string | null;
    at: Date;
  } | null;
}

export interface SeverityOriginDoc {
  source: SeverityOrigin['source'];
  agencyId?: string;
  reportId?: string;
  at: Date;
}

export interface SeverityProposalDoc {
  reportId: string;
  agencyId?: string;
  inputs: Record<string, string>;
  at: Date;
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
  /** `reported`: the text as written, when not canonical (absent on older documents: it was). */
  observables: { type: string; value: string; reported?: string }[];
  /** Absent on documents stored before intake recorded affected assets: read as none. */
  affectedAssets?: AffectedAssetDoc[];
  /** The inputs the reporter gave; absent when none (and on older documents). */
  severityInputs?: Record<string, string>;
  awareAt: Date;
  submittedAt: Date;
  opensIncident: boolean;
  /** Joining moves the incident's awareness time (absent on older documents: it does not). */
  revisesIncident?: boolean;
  /** Incidents it matched but could not join (absent on older documents: none). */
  related?: { incidentId: string; tlp: Tlp; sharedKeys: string[] }[];
  linked: boolean;
  /** The submission's audit record, until the report is linked. */
  audit?: AuditRecordDoc;
}

const affectedAssetsToDoc = (assets: readonly AffectedAsset[]): AffectedAssetDoc[] =>
  assets.map(({ assetId, loss }) => ({ assetId, loss }));

const affectedAssetsFromDoc = (docs: readonly AffectedAssetDoc[] | undefined): AffectedAsset[] =>
  (docs ?? []).map(({ assetId, loss }) => ({ assetId, loss }));

export const tlpRank = (tlp: Tlp): number => TLP_LEVELS.indexOf(tlp);

/** Only the inputs given: an absent one is not stored as `undefined` (null on the wire). */
const givenInputs = (inputs: PartialNcissInputs): Record<string, string> =>
  Object.fromEntries(Object.entries(inputs).filter(([, v]) => v !== undefined));

const originToDoc = ({ source, agencyId, reportId, at }: SeverityOrigin): SeverityOriginDoc => ({
  source,
  ...(agencyId === undefined ? {} : { agencyId }),
  ...(reportId === undefined ? {} : { reportId }),
  at,
});

const originsToDoc = (origins: SeverityOrigins): Record<string, SeverityOriginDoc> =>
  Object.fromEntries(
    Object.entries(origins)
      .filter((entry): entry is [string, SeverityOrigin] => entry[1] !== undefined)
      .map(([input, origin]) => [input, originToDoc(origin)]),
  );

const proposalToDoc = ({ reportId, agencyId, inputs, at }: SeverityProposal): SeverityProposalDoc => ({
  reportId,
  ...(agencyId === undefined ? {} : { agencyId }),
  inputs: givenInputs(inputs),
  at,
});

const proposalFromDoc = (doc: SeverityProposalDoc): SeverityProposal => ({
  reportId: doc.reportId,
  agencyId: doc.agencyId ?? undefined,
  inputs: doc.inputs,
  at: doc.at,
});

/** The incident's own fields as stored (the outbox is written separately). */
export function incidentFields(incident: Incident): Omit<IncidentDoc, '_id' | keyof OutboxFields> {
  const { id: _omitted, sourceAgencyId, mergedIncidentIds, ...rest } = incident;
  return {
    ...rest,
    ...(sourceAgencyId === undefined ? {} : { sourceAgencyId }),
    ...(mergedIncidentIds === undefined ? {} : { mergedIncidentIds: [...mergedIncidentIds] }),
    sectors: [...rest.sectors],
    jurisdictions: [...rest.jurisdictions],
    reportIds: [...rest.reportIds],
    engagedAgencyIds: [...rest.engagedAgencyIds],
    reporterAgencyIds: [...rest.reporterAgencyIds],
    observables: rest.observables.map(({ reported, ...o }) =>
      reported === undefined ? o : { ...o, reported },
    ),
    affectedAssets: affectedAssetsToDoc(rest.affectedAssets),
    severityOrigins: originsToDoc(rest.severityOrigins),
    severityProposals: rest.severityProposals.map(proposalToDoc),
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
    severityOrigins: Object.fromEntries(
      Object.entries(doc.severityOrigins ?? {}).map(([input, o]) => [
        input,
        {
          source: o.source,
          agencyId: o.agencyId ?? undefined,
          reportId: o.reportId ?? undefined,
          at: o.at,
        },
      ]),
    ),
    severityProposals: (doc.severityProposals ?? []).map(proposalFromDoc),
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
    // Merges: absent on incidents never merged (null once a later write cleared them).
    ...(doc.mergedInto ? { mergedInto: doc.mergedInto } : {}),
    ...(doc.mergedIncidentIds?.length ? { mergedIncidentIds: doc.mergedIncidentIds } : {}),
    ...(doc.mergePending
      ? {
          mergePending: {
            survivorId: doc.mergePending.survivorId,
            awareAt: doc.mergePending.awareAt,
            actor: doc.mergePending.actor,
            actorAgencyId: doc.mergePending.actorAgencyId ?? undefined,
            at: doc.mergePending.at,
          },
        }
      : {}),
  };
}

export const auditRecordToDoc = (r: AuditRecord): AuditRecordDoc => ({
  actor: r.actor,
  agencyId: r.agencyId ?? null,
  action: r.action,
  objectId: r.objectId,
  tlp: r.tlp,
  at: r.at,
});

export const auditRecordFromDoc = (d: AuditRecordDoc): AuditRecord => ({
  actor: d.actor,
  agencyId: d.agencyId ?? undefined,
  action: d.action,
  objectId: d.objectId,
  tlp: d.tlp,
  at: d.at,
});

export function reportToDoc(report: Report, plan: ReportPlan, audit: AuditRecord): ReportDoc {
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
    observables: report.observables.map(({ type, value, reported }) =>
      reported === undefined ? { type, value } : { type, value, reported },
    ),
    affectedAssets: affectedAssetsToDoc(report.affectedAssets),
    ...(report.severityInputs && Object.keys(givenInputs(report.severityInputs)).length > 0
      ? { severityInputs: givenInputs(report.severityInputs) }
      : {}),
    awareAt: report.awareAt,
    submittedAt: report.submittedAt,
    opensIncident: plan.opensIncident,
    ...(plan.revisesIncident ? { revisesIncident: true } : {}),
    ...(plan.related && plan.related.length > 0
      ? {
          related: plan.related.map((r) => ({
            incidentId: r.incidentId,
            tlp: r.tlp,
            sharedKeys: [...r.sharedKeys],
          })),
        }
      : {}),
    linked: false,
    audit: auditRecordToDoc(audit),
  };
}

export function reportFromDoc(doc: ReportDoc): StoredReport {
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
      ...(doc.severityInputs ? { severityInputs: doc.severityInputs } : {}),
      awareAt: doc.awareAt,
      submittedAt: doc.submittedAt,
    },
    plan: {
      incidentId: doc.incidentId,
      opensIncident: doc.opensIncident,
      revisesIncident: doc.revisesIncident ?? false,
      related: doc.related ?? [],
    },
    linked: doc.linked,
    audit: doc.audit ? auditRecordFromDoc(doc.audit) : undefined,
  };
}
