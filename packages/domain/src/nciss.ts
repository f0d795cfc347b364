/**
 * Incident severity aligned with the US National Cyber Incident Scoring System (NCISS): eight
 * inputs, each a category with a value in [0, 1], weighted into a score of 0–100 and mapped to
 * a level from 0 (Baseline) to 5 (Emergency).
 *
 * Weights, and why (they sum to 1):
 * - functional impact 0.18 and potential impact 0.16: what coordinators act on first is harm to
 *   services people depend on, now and plausibly next;
 * - information impact 0.14 and recoverability 0.12: lasting damage (stolen data, destroyed
 *   systems, months to recover) outweighs a short outage;
 * - cross-sector dependency 0.12: cascades through power, water and telecoms turn a local
 *   incident into a national one (fed by the impact assessment);
 * - location 0.10 and observed activity 0.10: how deep and how far along the attacker is;
 * - actor 0.08: informative, but often unknown early, so it must not dominate.
 *
 * The score is monotone: raising any input never lowers it. Every category's value is its
 * rank spread evenly over [0, 1], so each step up an input's scale counts the same.
 *
 * The score is rounded to a whole number, halves up, and banded into levels: Baseline (0)
 * below 20, Low (1) from 20, Medium (2) from 40, High (3) from 55, Severe (4) from 70,
 * Emergency (5) from 85. CISA publishes the method, the categories and the six levels, not the
 * weights or bands of its own configuration: these are Beacon's.
 */

const scale = <const T extends readonly string[]>(values: T) => values;

export const NCISS_INPUTS = {
  functionalImpact: scale([
    'none',
    'no-impact-to-services',
    'minimal-non-critical',
    'minimal-critical',
    'significant-non-critical',
    'denial-non-critical',
    'significant-critical',
    'denial-critical',
  ]),
  observedActivity: scale(['none', 'prepare', 'engage', 'presence', 'effect']),
  location: scale([
    'unknown',
    'business-dmz',
    'business-network',
    'business-network-management',
    'critical-system-dmz',
    'critical-system-management',
    'critical-systems',
    'safety-systems',
  ]),
  actor: scale([
    'none',
    'unknown',
    'opportunistic',
    'hacktivist',
    'insider',
    'organised-crime',
    'nation-state',
  ]),
  informationImpact: scale([
    'none',
    'suspected',
    'privacy-breach',
    'proprietary-breach',
    'destruction-non-critical',
    'critical-systems-data-breach',
    'core-credential-compromise',
    'destruction-critical',
  ]),
  recoverability: scale(['regular', 'supplemented', 'extended', 'not-recoverable']),
  crossSectorDependency: scale(['none', 'low', 'medium', 'high']),
  potentialImpact: scale(['none', 'low', 'medium', 'high', 'very-high']),
} as const;

export type NcissInput = keyof typeof NCISS_INPUTS;
export type NcissInputs = { readonly [K in NcissInput]: (typeof NCISS_INPUTS)[K][number] };

export const NCISS_WEIGHTS: { readonly [K in NcissInput]: number } = {
  functionalImpact: 0.18,
  potentialImpact: 0.16,
  informationImpact: 0.14,
  recoverability: 0.12,
  crossSectorDependency: 0.12,
  location: 0.1,
  observedActivity: 0.1,
  actor: 0.08,
};

/** What an incident scores before anything is known. */
export const NCISS_BASELINE: NcissInputs = {
  functionalImpact: 'none',
  observedActivity: 'none',
  location: 'unknown',
  actor: 'unknown',
  informationImpact: 'none',
  recoverability: 'regular',
  crossSectorDependency: 'none',
  potentialImpact: 'none',
};

export const NCISS_LEVELS = ['baseline', 'low', 'medium', 'high', 'severe', 'emergency'] as const;
export type NcissLevelName = (typeof NCISS_LEVELS)[number];
export type NcissLevel = 0 | 1 | 2 | 3 | 4 | 5;

/** Lowest score of levels 1 to 5. */
const LEVEL_FLOORS = [20, 40, 55, 70, 85] as const;

export interface Severity {
  readonly score: number;
  readonly level: NcissLevel;
  readonly levelName: NcissLevelName;
}

/** The category's position on its scale, spread over [0, 1]. */
export function inputValue<K extends NcissInput>(input: K, category: NcissInputs[K]): number {
  const values: readonly string[] = NCISS_INPUTS[input];
  const index = values.indexOf(category);
  if (index < 0) throw new RangeError(`unknown ${input} category "${category}"`);
  return index / (values.length - 1);
}

/** Score (0–100, whole numbers) and level of a set of inputs. */
export function scoreSeverity(inputs: NcissInputs): Severity {
  let weighted = 0;
  for (const input of Object.keys(NCISS_WEIGHTS) as NcissInput[]) {
    weighted += NCISS_WEIGHTS[input] * inputValue(input, inputs[input]);
  }
  // The weighted sum is off by a few ulps (0.12 · 2/3 + 0.1 · 1/4 comes to 0.10499999999999998,
  // not 0.105), so an exact half point rounded down or up depending on which inputs made it, and
  // 600 combinations fell a level short. Snapped to a billionth of a point first (no real score
  // is that close to a half: every one is a multiple of 1/84), every exact half rounds up.
  const score = Math.round(Math.round(weighted * 100 * 1e9) / 1e9);
  const level = LEVEL_FLOORS.filter((floor) => score >= floor).length as NcissLevel;
  return { score, level, levelName: NCISS_LEVELS[level] };
}

/** Validates untrusted input categories; returns the names of the bad ones. */
export function invalidNcissInputs(inputs: Readonly<Record<string, string>>): string[] {
  return (Object.keys(NCISS_INPUTS) as NcissInput[]).filter((input) => {
    const value = inputs[input];
    return value === undefined || !(NCISS_INPUTS[input] as readonly string[]).includes(value);
  });
}
