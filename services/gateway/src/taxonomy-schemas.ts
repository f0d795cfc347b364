import { NCISS_INPUTS, RSIT, RSIT_CLASSES, type NcissInput } from '@beacon/domain';

/**
 * What the published document says of the fields that take a name from Beacon's vocabularies
 * (RSIT classes and types, NCISS input categories), read from the domain package when the
 * document is generated, so it cannot drift from what the services accept: CI regenerates the
 * document and fails on a difference. The values are documented, not enforced by the schema:
 * the services validate them and say which would do (an RSIT type's valid types depend on its
 * class, which one schema cannot express).
 */
export function taxonomy(message: string, field: string): Record<string, unknown> {
  const entry = VOCABULARY[`${message}.${field}`];
  return entry ? { ...entry.values, description: entry.description } : {};
}

const list = (values: readonly string[]) => values.map((v) => `\`${v}\``).join(', ');

interface Entry {
  /** Machine-readable: `x-beacon-values` (a list) or `x-beacon-values-by-class` (RSIT types). */
  readonly values: Record<string, unknown>;
  readonly description: string;
}

const rsitClasses: Entry = {
  values: { 'x-beacon-values': RSIT_CLASSES },
  description: `An RSIT class, one of ${list(RSIT_CLASSES)}.`,
};

const rsitTypes: Entry = {
  values: { 'x-beacon-values-by-class': RSIT },
  description:
    'An RSIT type of the class: ' + RSIT_CLASSES.map((c) => `${c}: ${list(RSIT[c])}`).join('; ') + '.',
};

const snake = (camel: string) => camel.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

/** One NCISS input's categories, least to most severe. */
const ncissCategories = (input: NcissInput): Entry => ({
  values: { 'x-beacon-values': NCISS_INPUTS[input] },
  description: `NCISS ${snake(input).replaceAll('_', ' ')}, least to most severe: ${list(NCISS_INPUTS[input])}.`,
});

const VOCABULARY: Readonly<Record<string, Entry>> = {
  'beacon.common.v1.Classification.rsit_class': rsitClasses,
  'beacon.common.v1.Classification.rsit_type': rsitTypes,
  'beacon.notify.v1.Subscription.rsit_classes': {
    ...rsitClasses,
    description: `RSIT classes, each one of ${list(RSIT_CLASSES)}; empty: every class.`,
  },
  ...Object.fromEntries(
    (Object.keys(NCISS_INPUTS) as NcissInput[]).map((input) => [
      `beacon.common.v1.SeverityInputs.${snake(input)}`,
      ncissCategories(input),
    ]),
  ),
  'beacon.impact.v1.Assessment.cross_sector_dependency': {
    ...ncissCategories('crossSectorDependency'),
    description: `The NCISS cross-sector dependency this cascade implies: ${list(NCISS_INPUTS.crossSectorDependency)}.`,
  },
  'beacon.impact.v1.Assessment.potential_impact': {
    ...ncissCategories('potentialImpact'),
    description: `The NCISS potential impact this cascade implies: ${list(NCISS_INPUTS.potentialImpact)}.`,
  },
};
