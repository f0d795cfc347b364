/**
 * Severity inputs as people and processes propose them: a reporter knows some of the eight NCISS
 * categories (what it sees fail, where the attacker is), rarely all; impact's cascade knows two.
 * A proposal names only the inputs it gives, and who gave an incident's current inputs is kept
 * beside them, so a coordinator can tell a reporter's judgement from the cascade's from their own.
 */
import { NCISS_INPUTS, type NcissInput, type NcissInputs } from './nciss.js';

/** Some of the eight inputs: those a reporter (or the cascade) gave. */
export type PartialNcissInputs = { readonly [K in NcissInput]?: NcissInputs[K] };

/**
 * Who set an input: the reporter (a report's own judgement, applied when the report opened the
 * incident or is the source agency's own), a coordinator (by command), or impact (the cascade
 * of the incident's affected assets). An input nobody set is still the baseline.
 */
export const NCISS_INPUT_SOURCES = ['reporter', 'coordinator', 'impact'] as const;
export type NcissInputSource = (typeof NCISS_INPUT_SOURCES)[number];

/** The inputs in a fixed order (NCISS's own), for messages and stable output. */
export const NCISS_INPUT_NAMES = Object.keys(NCISS_INPUTS) as NcissInput[];

/** How people read each input's name. */
export const NCISS_INPUT_LABELS: { readonly [K in NcissInput]: string } = {
  functionalImpact: 'functional impact',
  observedActivity: 'observed activity',
  location: 'location',
  actor: 'actor',
  informationImpact: 'information impact',
  recoverability: 'recoverability',
  crossSectorDependency: 'cross-sector dependency',
  potentialImpact: 'potential impact',
};

/** Where a category is on its input's scale; -1 when it is not one of its categories. */
export function ncissRank<K extends NcissInput>(input: K, category: string): number {
  return (NCISS_INPUTS[input] as readonly string[]).indexOf(category);
}

/**
 * Reads untrusted, possibly partial inputs: an empty or missing category is not given; any
 * other must be one of its input's categories (`invalid` names those that are not).
 */
export function partialNcissInputs(raw: Readonly<Record<string, string | undefined>>): {
  readonly inputs: PartialNcissInputs;
  readonly invalid: NcissInput[];
} {
  const inputs: Partial<Record<NcissInput, string>> = {};
  const invalid: NcissInput[] = [];
  for (const input of NCISS_INPUT_NAMES) {
    const value = raw[input];
    if (value === undefined || value === '') continue;
    if (ncissRank(input, value) < 0) invalid.push(input);
    else inputs[input] = value;
  }
  return { inputs: inputs as PartialNcissInputs, invalid };
}

/** The inputs given, in NCISS's order. */
export function givenNcissInputs(inputs: PartialNcissInputs): NcissInput[] {
  return NCISS_INPUT_NAMES.filter((input) => inputs[input] !== undefined);
}

/** `base` with every input `given` names replaced: what an incident opened by a report takes. */
export function withNcissInputs(base: NcissInputs, given: PartialNcissInputs): NcissInputs {
  return { ...base, ...definedOnly(given) };
}

/**
 * Each input raised to the proposed category when that is more severe, never lowered: how a
 * proposal that may revise the incident (the source agency's own report, impact's cascade) is
 * applied. `raised` names the inputs that moved.
 */
export function raiseNcissInputs(
  current: NcissInputs,
  proposed: PartialNcissInputs,
): { readonly inputs: NcissInputs; readonly raised: NcissInput[] } {
  const next: Record<string, string> = { ...current };
  const raised: NcissInput[] = [];
  for (const input of givenNcissInputs(proposed)) {
    if (ncissRank(input, proposed[input]!) > ncissRank(input, current[input])) {
      next[input] = proposed[input]!;
      raised.push(input);
    }
  }
  return { inputs: next as unknown as NcissInputs, raised };
}

/** The inputs whose category differs between two sets, in NCISS's order. */
export function changedNcissInputs(before: NcissInputs, after: NcissInputs): NcissInput[] {
  return NCISS_INPUT_NAMES.filter((input) => before[input] !== after[input]);
}

function definedOnly(given: PartialNcissInputs): PartialNcissInputs {
  return Object.fromEntries(Object.entries(given).filter(([, value]) => value !== undefined));
}
