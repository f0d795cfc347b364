import { parseJurisdiction, type Sector } from '@beacon/domain';
import { tlpFromProto, tlpToProto } from '@beacon/platform';
import type { impactV1 } from '@beacon/proto';
import type { Asset, Criticality, Dependency, DependencyKind } from '../domain/model.js';
import type { Assessment, StoredAsset } from '../app/ports.js';
import type { ImportRow } from '../app/impact-service.js';

/**
 * The domain asset a request describes, as given: validation (`assetProblems`) judges it.
 * An unspecified label reads as CLEAR's opposite, AMBER: the operator must say when
 * something may go wider.
 */
export function assetFromProto(a: impactV1.Asset | undefined): Asset {
  return {
    id: a?.id.trim() ?? '',
    name: a?.name.trim() ?? '',
    operatorId: a?.operatorId.trim() ?? '',
    sector: (a?.sector.trim() ?? '') as Sector,
    jurisdiction: parseJurisdiction(a?.jurisdiction ?? '') ?? a?.jurisdiction ?? '',
    // Optional: an asset whose coordinates are not known has none.
    ...(a?.location ? { location: { lat: a.location.lat, lon: a.location.lon } } : {}),
    populationServed: a?.populationServed ?? 0,
    criticality: (a?.criticality ?? 0) as Criticality,
    services: a?.services.map((s) => s.trim()) ?? [],
    tlp: tlpFromProto(a?.tlp ?? 0) ?? 'AMBER',
  };
}

export function assetToProto(a: Asset | StoredAsset): impactV1.Asset {
  return {
    id: a.id,
    name: a.name,
    operatorId: a.operatorId,
    sector: a.sector,
    jurisdiction: a.jurisdiction,
    ...(a.location ? { location: { lat: a.location.lat, lon: a.location.lon } } : {}),
    populationServed: a.populationServed,
    criticality: a.criticality,
    services: [...a.services],
    tlp: tlpToProto(a.tlp),
    version: 'version' in a ? a.version : 0,
    ...('updatedAt' in a ? { updatedAt: a.updatedAt } : {}),
  };
}

export function dependencyFromProto(d: impactV1.Dependency | undefined): Dependency {
  return {
    dependentId: d?.dependentId.trim() ?? '',
    providerId: d?.providerId.trim() ?? '',
    kind: (d?.kind.trim() ?? '') as DependencyKind,
    timeToImpactHours: d?.timeToImpactHours ?? 0,
    degradation: d?.degradation ?? 0,
    backupHours: d?.backupHours ?? 0,
  };
}

export function dependencyToProto(d: Dependency): impactV1.Dependency {
  return { ...d };
}

export function rowToProto(row: ImportRow): impactV1.ImportRow {
  return 'asset' in row
    ? { row: { $case: 'asset', value: assetToProto(row.asset) } }
    : { row: { $case: 'dependency', value: dependencyToProto(row.dependency) } };
}

export function assessmentToProto(a: Assessment): impactV1.Assessment {
  const tally = (t: { key: string; assets: number; population: number }) => ({
    key: t.key,
    assets: t.assets,
    population: String(t.population),
  });
  return {
    id: a.id,
    incidentId: a.incidentId,
    affectedAssets: a.affectedAssets.map(({ assetId, loss }) => ({ assetId, loss })),
    horizonHours: a.horizonHours,
    impactedAssets: a.impactedAssets,
    populationAffected: String(a.populationAffected),
    bySector: a.bySector.map(tally),
    byJurisdiction: a.byJurisdiction.map(tally),
    byOperator: a.byOperator.map(tally),
    byPlace: a.byPlace.map((p) => ({ ...p, population: String(p.population) })),
    populationOverTime: a.populationOverTime.map((p) => ({
      hours: p.hours,
      population: String(p.population),
    })),
    topImpacts: a.topImpacts.map((i) => ({
      assetId: i.assetId,
      firstImpactHours: i.firstImpactHours,
      maxLoss: i.maxLoss,
      maxLossHours: i.maxLossHours,
      population: String(i.population),
      criticalPath: i.criticalPath.map((h) => ({
        assetId: h.assetId,
        hours: h.hours,
        loss: h.loss,
        via: h.via ?? '',
      })),
    })),
    crossSectorDependency: a.crossSectorDependency,
    potentialImpact: a.potentialImpact,
    tlp: tlpToProto(a.tlp),
    revision: a.revision,
    assessedAt: a.assessedAt,
    unknownAssetIds: [...a.unknownAssetIds],
    withheldAssets: a.withheldAssets ?? 0,
  };
}
