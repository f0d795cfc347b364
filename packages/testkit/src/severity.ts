import { NCISS_BASELINE, type NcissInputs } from '@beacon/domain';

/**
 * Severity inputs the tests and benches give their incidents, by the NCISS level they score.
 * Level 1 (Low): a non-critical service denied; engages CSIRTs and, for a crime, the police.
 */
export const NCISS_LOW: NcissInputs = {
  ...NCISS_BASELINE,
  functionalImpact: 'denial-non-critical',
  observedActivity: 'effect',
  location: 'business-network',
};

/** Level 3 (High): a critical service badly hit; NIS2, CER and CIRCIA apply where they reach. */
export const NCISS_HIGH: NcissInputs = {
  ...NCISS_BASELINE,
  functionalImpact: 'significant-critical',
  potentialImpact: 'high',
  informationImpact: 'destruction-non-critical',
  recoverability: 'extended',
  crossSectorDependency: 'medium',
  location: 'critical-system-management',
  observedActivity: 'presence',
};
