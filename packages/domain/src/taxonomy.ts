/**
 * The Reference Security Incident Taxonomy (RSIT) of the ENISA / TF-CSIRT working group:
 * every Beacon incident is classified with one class and one type from it.
 */
export const RSIT = {
  'abusive-content': ['spam', 'harmful-speech', 'violence'],
  'malicious-code': ['infected-system', 'c2-server', 'malware-distribution', 'malware-configuration'],
  'information-gathering': ['scanner', 'sniffing', 'social-engineering'],
  'intrusion-attempts': ['ids-alert', 'brute-force', 'exploit'],
  intrusions: [
    'privileged-account-compromise',
    'unprivileged-account-compromise',
    'application-compromise',
    'system-compromise',
    'burglary',
  ],
  availability: ['dos', 'ddos', 'misconfiguration', 'sabotage', 'outage'],
  'information-content-security': [
    'unauthorised-information-access',
    'unauthorised-information-modification',
    'data-loss',
    'data-leak',
  ],
  fraud: ['unauthorised-use-of-resources', 'copyright', 'masquerade', 'phishing'],
  vulnerable: [
    'weak-crypto',
    'ddos-amplifier',
    'potentially-unwanted-accessible',
    'information-disclosure',
    'vulnerable-system',
  ],
  other: ['other', 'undetermined'],
  test: ['test'],
} as const;

export type RsitClass = keyof typeof RSIT;
export type RsitType<C extends RsitClass = RsitClass> = (typeof RSIT)[C][number];

/** One class and one of its types. */
export interface Classification {
  readonly rsitClass: RsitClass;
  readonly rsitType: RsitType;
}

export const RSIT_CLASSES = Object.keys(RSIT) as RsitClass[];

export function isRsitClass(value: string): value is RsitClass {
  return Object.hasOwn(RSIT, value);
}

/** The classification when `type` belongs to `rsitClass`, else undefined. */
export function classification(rsitClass: string, rsitType: string): Classification | undefined {
  if (!isRsitClass(rsitClass)) return undefined;
  const types: readonly string[] = RSIT[rsitClass];
  return types.includes(rsitType) ? { rsitClass, rsitType: rsitType as RsitType } : undefined;
}

/**
 * Why `rsitClass` / `rsitType` is not a classification, naming what would be: the classes for
 * an unknown class, the class's own types for a type it does not have. Undefined when valid.
 * The message does not repeat the value (the field names it), so the list fits a violation.
 */
export function classificationProblem(
  rsitClass: string,
  rsitType: string,
): { readonly field: 'rsitClass' | 'rsitType'; readonly message: string } | undefined {
  if (!isRsitClass(rsitClass)) {
    return {
      field: 'rsitClass',
      message: `is not an RSIT class: one of ${RSIT_CLASSES.join(', ')}`,
    };
  }
  const types: readonly string[] = RSIT[rsitClass];
  if (types.includes(rsitType)) return undefined;
  return {
    field: 'rsitType',
    message: `is not an RSIT type of ${rsitClass}: one of ${types.join(', ')}`,
  };
}

/**
 * Whether the classification describes a likely crime, which makes law enforcement an agency
 * to engage (intrusions, fraud, malicious code, extortion-style availability attacks).
 */
export function isCriminal({ rsitClass, rsitType }: Classification): boolean {
  switch (rsitClass) {
    case 'intrusions':
    case 'fraud':
    case 'malicious-code':
      return true;
    case 'availability':
      return rsitType === 'dos' || rsitType === 'ddos' || rsitType === 'sabotage';
    case 'information-content-security':
      return rsitType !== 'data-loss';
    case 'abusive-content':
      return rsitType !== 'spam';
    case 'information-gathering':
    case 'intrusion-attempts':
    case 'vulnerable':
    case 'other':
    case 'test':
      return false;
  }
}

/** The 16 critical-infrastructure sectors of the US CISA (PPD-21), as stable identifiers. */
export const CISA_SECTORS = {
  chemical: 'Chemical',
  'commercial-facilities': 'Commercial Facilities',
  communications: 'Communications',
  'critical-manufacturing': 'Critical Manufacturing',
  dams: 'Dams',
  'defense-industrial-base': 'Defense Industrial Base',
  'emergency-services': 'Emergency Services',
  energy: 'Energy',
  'financial-services': 'Financial Services',
  'food-and-agriculture': 'Food and Agriculture',
  'government-facilities': 'Government Services and Facilities',
  'healthcare-and-public-health': 'Healthcare and Public Health',
  'information-technology': 'Information Technology',
  nuclear: 'Nuclear Reactors, Materials, and Waste',
  'transportation-systems': 'Transportation Systems',
  'water-and-wastewater': 'Water and Wastewater Systems',
} as const;

export type Sector = keyof typeof CISA_SECTORS;
export const SECTORS = Object.keys(CISA_SECTORS) as Sector[];

export function isSector(value: string): value is Sector {
  return Object.hasOwn(CISA_SECTORS, value);
}
