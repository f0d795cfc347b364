import {
  combinedLabel,
  partitionByClearance,
  TLP_LEVELS,
  withinClearance,
  type Principal,
  type Tlp,
} from '@beacon/domain';
import { cascade } from '../domain/cascade.js';
import type { AssetGraph } from '../domain/graph.js';
import { ncissFromImpact, summarise } from '../domain/summary.js';
import { ImpactError } from './errors.js';
import type { AffectedAsset, Assessment, AssessmentView, IncidentFacts } from './ports.js';

/** Impacts listed with their critical paths; the tallies cover every impacted asset. */
export const TOP_IMPACTS = 50;

/**
 * Computes an incident's (or a what-if) assessment on the graph, with a view for every
 * clearance below its label: what a reader cleared for that level may be shown. The views are
 * computed with the assessment, from the labels the assets carry then, because the cascade
 * they restrict is only in memory now.
 */
export function computeAssessment(
  graph: AssetGraph,
  incident: IncidentFacts,
  horizonHours: number,
  made: {
    readonly id: string;
    readonly assessedAt: Date;
    readonly digest: (text: string) => string;
    /**
     * Whether an affected asset the requester named counts: one it may not see is treated as
     * one the registry does not know, so an assessment answers nothing about hidden assets.
     */
    readonly mayName?: (node: number) => boolean;
  },
): Omit<Assessment, 'revision'> {
  const mayName = made.mayName ?? (() => true);
  const initial: { node: number; loss: number }[] = [];
  const unknownAssetIds: string[] = [];
  const directSectors = new Set<string>(incident.sectors);
  for (const { assetId, loss } of incident.affectedAssets) {
    const node = graph.nodeOf(assetId);
    if (node === undefined || !mayName(node)) {
      unknownAssetIds.push(assetId);
      continue;
    }
    initial.push({ node, loss });
    directSectors.add(graph.sectorOf(node));
  }
  const result = cascade(graph.view(), initial, { horizonHours });
  // Every asset the assessment names or measures: the affected ones and all it impacts (the
  // tallies and curves count them all, not only the top impacts listed).
  const named = new Map<number, Tlp>();
  for (const { node } of initial) named.set(node, graph.tlpOf(node));
  for (const node of result.impactedNodes()) named.set(node, graph.tlpOf(node));
  const tlp = combinedLabel([...named.values()], incident.tlp);
  const summary = summarise(graph, result, { top: TOP_IMPACTS });
  const nciss = ncissFromImpact(summary, directSectors);

  const views: AssessmentView[] = TLP_LEVELS.filter((level) => !withinClearance({ clearance: level }, tlp))
    // A reader below the incident's own label does not read the incident's assessment at all.
    .filter((level) => withinClearance({ clearance: level }, incident.tlp))
    .map((clearance) => {
      const reader = { clearance };
      const shown = (node: number) => withinClearance(reader, graph.tlpOf(node));
      const { withheld } = partitionByClearance(
        reader,
        [...named.values()].map((label) => ({ tlp: label })),
      );
      return {
        ...summarise(graph, result, { top: TOP_IMPACTS, include: shown }),
        clearance,
        affectedAssets: incident.affectedAssets.filter(({ assetId }) => {
          const node = graph.nodeOf(assetId);
          return node === undefined || !mayName(node) || shown(node);
        }),
        withheldAssets: withheld,
        tlp: combinedLabel(
          [...named.values()].filter((label) => withinClearance(reader, label)),
          incident.tlp,
        ),
      };
    });

  const content = {
    ...summary,
    incidentId: incident.id,
    affectedAssets: incident.affectedAssets,
    unknownAssetIds,
    crossSectorDependency: nciss.crossSectorDependency,
    potentialImpact: nciss.potentialImpact,
    tlp,
    withheldAssets: 0,
    views,
    incidentTlp: incident.tlp,
    incidentSectors: [...incident.sectors],
  };
  return {
    ...content,
    id: made.id,
    assessedAt: made.assessedAt,
    digest: made.digest(JSON.stringify(content)),
  };
}

/**
 * What an assessment request assesses: an incident's announced assets unless others are
 * named, or a what-if (`id` empty) of the named assets. An incident above the caller's
 * clearance, or not announced yet (its label unknown, so assumed RED, which is also what a
 * hidden incident looks like to anyone below it), is answered as one impact never heard of.
 */
export function factsToAssess(
  caller: Pick<Principal, 'clearance'>,
  request: { readonly incidentId?: string; readonly affectedAssets: readonly AffectedAsset[] },
  previous: Assessment | undefined,
): IncidentFacts {
  if (!request.incidentId) {
    if (request.affectedAssets.length === 0)
      throw new ImpactError('failed-precondition', 'name the affected assets or an incident');
    return { id: '', tlp: 'CLEAR', sectors: [], affectedAssets: request.affectedAssets };
  }
  const tlp = previous?.incidentTlp ?? 'RED';
  if (!withinClearance(caller, tlp)) throw unknownIncident(request.incidentId);
  const affectedAssets =
    request.affectedAssets.length > 0 ? request.affectedAssets : (previous?.affectedAssets ?? []);
  if (affectedAssets.length === 0) {
    throw new ImpactError('failed-precondition', 'no affected assets are known for this incident: name them');
  }
  return { id: request.incidentId, tlp, sectors: previous?.incidentSectors ?? [], affectedAssets };
}

export function unknownIncident(id: string): ImpactError {
  return new ImpactError('not-found', `no incident ${id} is known to impact`);
}

/**
 * The assessment as this caller may read it, or undefined when it may not read it at all (the
 * incident itself is above its clearance): the whole of it within the caller's clearance;
 * otherwise the view for its clearance, every figure over the assets shown and the number left
 * out said. The NCISS grades stay those of the whole cascade: they are the incident's severity
 * inputs, coarse bands the incident already carries.
 */
export function assessmentFor(
  caller: Pick<Principal, 'clearance'>,
  assessment: Assessment,
): Assessment | undefined {
  const { views = [], ...whole } = assessment;
  if (!withinClearance(caller, assessment.incidentTlp)) return undefined;
  if (withinClearance(caller, assessment.tlp)) return { ...whole, withheldAssets: 0 };
  const view = views.find((v) => v.clearance === caller.clearance);
  if (!view) {
    // Stored before views were kept: show nothing of the assets rather than too much.
    return {
      ...whole,
      ...summaryOfNothing(whole),
      affectedAssets: [],
      withheldAssets: whole.impactedAssets,
      tlp: whole.incidentTlp,
    };
  }
  const { clearance: _clearance, ...shown } = view;
  return { ...whole, ...shown };
}

function summaryOfNothing(a: Assessment) {
  return {
    impactedAssets: 0,
    populationAffected: 0,
    bySector: [],
    byPlace: [],
    byJurisdiction: [],
    byOperator: [],
    populationOverTime: a.populationOverTime.map(({ hours }) => ({ hours, population: 0 })),
    topImpacts: [],
  };
}
