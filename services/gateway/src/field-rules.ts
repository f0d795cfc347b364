// The request fields' limits (`beacon.api.v1.field` options in proto/), read from the
// descriptors once for both places that state them: the table the services' validators read
// (packages/proto/src/gen/field-rules.ts) and the JSON Schema keywords of the OpenAPI document,
// which the gateway checks requests against before they reach a service.
//
// The service is the authority, and a keyword may never be stricter than it. Where JSON Schema
// counts differently, the keyword is chosen to stay at or under the service's limit:
// - Text length: the service trims surrounding white space and counts UTF-16 code units;
//   `maxLength` counts code points of the untrimmed value, so a padded value the service takes
//   would be refused. The limit is stated as a `pattern` that skips the white space a trim
//   removes (JavaScript's `\s` is the set `String.prototype.trim` removes) and counts code points
//   of the rest: never more than its UTF-16 units, so never stricter.
// - Required text: the service refuses empty after trimming; the schema refuses an absent member
//   (`required`) or an empty string (`minLength`), and leaves blank text to the service.
// - Integer bounds: only the JSON-number form is bounded; the string form 64-bit integers share
//   (and query strings always use) is left to the service.
// Nothing here may import @beacon/proto, even through @beacon/platform: `buf generate` empties
// packages/proto/src/gen, this file's output among it, before this runs.
import { RULE_VIOLATIONS } from '@beacon/domain';
import type { DescriptorSet, FieldDescriptor, MessageDescriptor } from './openapi.js';

/** A field's `beacon.api.v1.field` option, as buf's JSON image gives it. */
export interface FieldRules {
  readonly maxLength?: number;
  readonly required?: boolean;
  readonly multiline?: boolean;
  /** An `IdShape` value's name. */
  readonly id?: string;
  readonly maxItems?: number;
  readonly minimum?: number;
  readonly maximum?: number;
  /** An id may be empty (unset). */
  readonly optional?: boolean;
}

interface IdPattern {
  readonly regex: string;
  readonly what: string;
}

type Schema = Record<string, unknown>;

const RULES_OPTION = '[beacon.api.v1.field]';
const RULES_FILE = 'beacon/api/v1/field_rules.proto';

/** A field's rules, or undefined when it has none. */
export const rulesOf = (field: FieldDescriptor): FieldRules | undefined =>
  field.options?.[RULES_OPTION] as FieldRules | undefined;

/** What each `IdShape` value matches, from its `id_pattern` option. */
export function idShapes(descriptors: DescriptorSet): ReadonlyMap<string, IdPattern> {
  const file = descriptors.file.find((f) => f.name === RULES_FILE);
  const values = file?.enumType?.find((e) => e.name === 'IdShape')?.value ?? [];
  return new Map(
    values.flatMap((v) => {
      const pattern = v.options?.['[beacon.api.v1.id_pattern]'] as IdPattern | undefined;
      return pattern ? [[v.name, pattern] as const] : [];
    }),
  );
}

/** Refuses rules the field's type cannot carry: a typo in proto/ must not pass silently. */
function checked(
  message: string,
  field: FieldDescriptor,
  rules: FieldRules,
  shapes: ReadonlyMap<string, IdPattern>,
) {
  const where = `${message}.${field.name}`;
  const repeated = field.label === 'LABEL_REPEATED';
  const text = rules.maxLength !== undefined || rules.required || rules.multiline;
  if ((text || rules.id) && field.type !== 'TYPE_STRING')
    throw new Error(`${where}: text and id rules are for strings`);
  if (text && (repeated || rules.maxLength === undefined))
    throw new Error(`${where}: a text rule is for a singular string and needs max_length`);
  if (rules.maxItems !== undefined && !repeated)
    throw new Error(`${where}: max_items is for repeated fields`);
  if (repeated && rules.id && rules.maxItems === undefined)
    throw new Error(`${where}: repeated ids need max_items`);
  if (rules.optional && (!rules.id || repeated)) throw new Error(`${where}: optional is for a singular id`);
  if (rules.id && !shapes.has(rules.id)) throw new Error(`${where}: ${rules.id} has no id_pattern`);
  if ((rules.minimum !== undefined || rules.maximum !== undefined) && !/INT32$/.test(field.type))
    throw new Error(`${where}: minimum and maximum are for 32-bit integers`);
  // One wording names the range ("must be 0 to 100"): a bound alone would need another.
  if ((rules.minimum === undefined) !== (rules.maximum === undefined))
    throw new Error(`${where}: minimum and maximum go together`);
  return rules;
}

/** Every message with rules, by full name, each field's rules by its JSON (and ts-proto) name. */
export function rulesByMessage(descriptors: DescriptorSet): Map<string, Map<string, FieldRules>> {
  const shapes = idShapes(descriptors);
  const out = new Map<string, Map<string, FieldRules>>();
  const visit = (m: MessageDescriptor, fullName: string) => {
    m.nestedType?.forEach((n) => visit(n, `${fullName}.${n.name}`));
    for (const field of m.field ?? []) {
      const rules = rulesOf(field);
      if (!rules) continue;
      if (!out.has(fullName)) out.set(fullName, new Map());
      out.get(fullName)!.set(field.jsonName ?? field.name, checked(fullName, field, rules, shapes));
    }
  };
  for (const file of descriptors.file) {
    file.messageType?.forEach((m) => visit(m, `${file.package}.${m.name}`));
  }
  return out;
}

/** At most `max` code points once surrounding white space is left out (see the top). */
const trimmedLength = (max: number) => `^\\s*(?:\\S${max > 1 ? `(?:[\\s\\S]{0,${max - 2}}\\S)?` : ''})?\\s*$`;

/**
 * The field's schema with its rules as keywords. A `pattern` carries the violation the gateway
 * reports when it fails (`x-beacon-violation`), worded as the service words it.
 */
export function withRules(schema: Schema, rules: FieldRules, shapes: ReadonlyMap<string, IdPattern>): Schema {
  const out: Schema = { ...schema };
  if (rules.maxLength !== undefined) {
    Object.assign(out, {
      ...(rules.required ? { minLength: 1 } : {}),
      pattern: trimmedLength(rules.maxLength),
      'x-beacon-violation': RULE_VIOLATIONS.tooLong(rules.maxLength),
    });
  }
  const shape = rules.id ? shapes.get(rules.id)! : undefined;
  const idSchema = shape && {
    pattern: rules.optional ? `^$|${shape.regex}` : shape.regex,
    'x-beacon-violation': RULE_VIOLATIONS.notId(shape.what),
  };
  if (rules.maxItems !== undefined) {
    out['maxItems'] = rules.maxItems;
    if (idSchema) out['items'] = { ...(out['items'] as Schema), ...idSchema };
  } else if (idSchema) {
    Object.assign(out, idSchema);
  }
  if (rules.minimum !== undefined || rules.maximum !== undefined) {
    const [number, ...others] = out['anyOf'] as Schema[];
    const bounds = {
      ...(rules.minimum !== undefined ? { minimum: rules.minimum } : {}),
      ...(rules.maximum !== undefined ? { maximum: rules.maximum } : {}),
    };
    out['anyOf'] = [{ ...number, ...bounds }, ...others];
  }
  return out;
}

/** The TypeScript module of the rules table the services' validators read. */
export function rulesTableSource(descriptors: DescriptorSet): string {
  const shapes = idShapes(descriptors);
  const byPackage = new Map<string, string[]>();
  for (const [message, fields] of rulesByMessage(descriptors)) {
    const pkg = message.slice(0, message.lastIndexOf('.'));
    const entries = [...fields].map(([name, rules]) => `      ${name}: ${ruleSource(rules, shapes)},`);
    if (!byPackage.has(pkg)) byPackage.set(pkg, []);
    byPackage.get(pkg)!.push(`    ${message.slice(pkg.length + 1)}: {`, ...entries, '    },');
  }
  return [
    '// Generated by services/gateway/scripts/gen-rest.ts from proto/ (`pnpm proto:gen`). Do not edit:',
    "// change the field's `beacon.api.v1.field` option instead.",
    '',
    '/**',
    " * Each request field's limits, by protobuf package, message and field (its ts-proto name):",
    ' * text (`maxLength`, counted in UTF-16 code units after trimming; `required`, `multiline`),',
    ' * ids (`pattern`, and `what` names the shape in a violation; `optional` allows empty), `maxItems`,',
    ' * and integer bounds.',
    ' */',
    'export const FIELD_RULES = {',
    ...[...byPackage].flatMap(([pkg, lines]) => [`  '${pkg}': {`, ...lines, '  },']),
    '} as const;',
    '',
  ].join('\n');
}

function ruleSource(rules: FieldRules, shapes: ReadonlyMap<string, IdPattern>): string {
  const shape = rules.id ? shapes.get(rules.id) : undefined;
  const members = [
    rules.maxLength !== undefined && `maxLength: ${rules.maxLength}`,
    rules.required && 'required: true',
    rules.multiline && 'multiline: true',
    shape && `pattern: /${new RegExp(shape.regex).source}/`,
    shape && `what: ${JSON.stringify(shape.what)}`,
    rules.optional && 'optional: true',
    rules.maxItems !== undefined && `maxItems: ${rules.maxItems}`,
    rules.minimum !== undefined && `minimum: ${rules.minimum}`,
    rules.maximum !== undefined && `maximum: ${rules.maximum}`,
  ].filter((m): m is string => typeof m === 'string');
  return `{ ${members.join(', ')} }`;
}
