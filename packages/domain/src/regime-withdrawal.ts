/**
 * Why a regime that once applied to an incident no longer does, in words for the coordinator:
 * the incident was re-scored, re-placed or its cascade re-assessed. The response withdraws the
 * regime with this reason; reports already filed under it stay on record.
 */
import { ransomPayments } from './ransom-reports.js';
import {
  applicableRegimes,
  regimeScope,
  REGULATORY_THRESHOLDS,
  severeFunctionalImpact,
  type Regime,
  type RegulatoryFacts,
} from './regulatory.js';

/** Undefined while `regime` applies to `facts`; otherwise every condition it no longer meets. */
export function whyRegimeNoLongerApplies(regime: Regime, facts: RegulatoryFacts): string | undefined {
  if (applicableRegimes(facts).some((a) => a.regime === regime)) return undefined;
  const scope = regimeScope(facts);
  const level = facts.ncissLevel;
  const unmet: string[] = [];
  switch (regime) {
    case 'NIS2':
      if (scope.eu.length === 0 || scope.nis2Sectors.length === 0)
        unmet.push('it touches no NIS2 sector in an EU member state');
      if (level < REGULATORY_THRESHOLDS.nis2Level)
        unmet.push(`not significant: NCISS level ${level} < ${REGULATORY_THRESHOLDS.nis2Level}`);
      break;
    case 'CIRCIA':
      if (!scope.us || scope.sectors.length === 0)
        unmet.push('it touches no critical-infrastructure sector in the United States');
      if (level < REGULATORY_THRESHOLDS.circiaLevel && ransomPayments(facts).length === 0)
        unmet.push(
          `not covered: NCISS level ${level} < ${REGULATORY_THRESHOLDS.circiaLevel} and no ransom was paid`,
        );
      break;
    case 'CER':
      if (scope.eu.length === 0 || scope.cerSectors.length === 0)
        unmet.push('it touches no CER sector in an EU member state');
      if (level < REGULATORY_THRESHOLDS.cerLevel && !severeFunctionalImpact(facts.functionalImpact))
        unmet.push(
          `no significant disruption: NCISS level ${level} < ${REGULATORY_THRESHOLDS.cerLevel} and functional impact ${facts.functionalImpact ?? 'unknown'}`,
        );
      break;
  }
  return unmet.join('; ');
}
