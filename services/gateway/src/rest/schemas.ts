import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { RULE_VIOLATIONS, type RuleViolation } from '@beacon/domain';
import { protoFieldName, type FieldViolation } from '@beacon/platform';

/**
 * Validates request bodies against the message schemas of the published OpenAPI document:
 * unknown members (including operator-looking keys such as `$where`), wrong types and bad
 * timestamps are refused before anything reaches a service.
 */
export class RequestSchemas {
  readonly #ajv: Ajv2020;
  readonly #compiled = new Map<string, ValidateFunction>();
  readonly #schemas: Record<string, unknown>;

  constructor(openapi: { components: { schemas: Record<string, unknown> } }) {
    this.#schemas = openapi.components.schemas;
    // `verbose` gives each error the schema it failed, which names the violation of a field's rule.
    this.#ajv = new Ajv2020({ allErrors: true, strict: false, verbose: true });
    (addFormats as unknown as (ajv: Ajv2020) => void)(this.#ajv);
    this.#ajv.addSchema({ $id: 'beacon:openapi', components: openapi.components }, 'beacon:openapi');
  }

  /**
   * The message's repeated fields (both JSON and proto names): a query string gives one value
   * of such a field as a string, which is still a list of one.
   */
  repeatedFields(fullName: string): ReadonlySet<string> {
    const schema = this.#schemas[fullName] as { properties?: Record<string, { type?: unknown }> } | undefined;
    return new Set(
      Object.entries(schema?.properties ?? {})
        .filter(([, property]) => property.type === 'array')
        .map(([name]) => name),
    );
  }

  /** Field violations of `value` as the message `fullName`; empty when it is valid. */
  violations(fullName: string, value: unknown): FieldViolation[] {
    let validate = this.#compiled.get(fullName);
    if (!validate) {
      validate = this.#ajv.compile({ $ref: `beacon:openapi#/components/schemas/${fullName}` });
      this.#compiled.set(fullName, validate);
    }
    return validate(value) ? [] : toViolations(validate.errors ?? []);
  }
}

/** `/observables/0/value` → `observables[0].value` */
function fieldPath(pointer: string): string {
  return pointer
    .split('/')
    .slice(1)
    .map((part) => part.replaceAll('~1', '/').replaceAll('~0', '~'))
    .reduce((path, part) => (/^\d+$/.test(part) ? `${path}[${part}]` : path ? `${path}.${part}` : part), '');
}

/**
 * A broken field rule (`beacon.api.v1.field` in proto/, stated as keywords by the OpenAPI
 * generator), worded as the service words it; undefined for any other error.
 */
function ruleViolation(error: ErrorObject): RuleViolation | undefined {
  const schema = error.parentSchema;
  switch (error.keyword) {
    case 'required':
    case 'minLength':
      return RULE_VIOLATIONS.required();
    case 'maxItems':
      return RULE_VIOLATIONS.tooMany(Number(error.params['limit']));
    case 'minimum':
    case 'maximum':
      return RULE_VIOLATIONS.outOfRange(Number(schema?.['minimum']), Number(schema?.['maximum']));
    case 'pattern':
      return schema?.['x-beacon-violation'] as RuleViolation | undefined;
    default:
      return undefined;
  }
}

/** The field as the service names it: proto field names (`incidentId` → `incident_id`). */
const protoPath = (path: string) => path.replace(/[A-Za-z_]+/g, protoFieldName);

function toViolations(errors: readonly ErrorObject[]): FieldViolation[] {
  const out: FieldViolation[] = [];
  // A missing member is named last: what was sent wrong is what a client fixes first.
  const missing: FieldViolation[] = [];
  const typed = new Set<string>();
  for (const error of errors) {
    let path = fieldPath(error.instancePath);
    if (error.keyword === 'required') {
      const member = (error.params as { missingProperty: string }).missingProperty;
      path = path ? `${path}.${member}` : member;
    }
    const rule = ruleViolation(error);
    if (rule) {
      const field = protoPath(path);
      if (!typed.has(path)) (error.keyword === 'required' ? missing : out).push({ field, ...rule });
      typed.add(path);
    } else if (error.keyword === 'additionalProperties') {
      const member = (error.params as { additionalProperty: string }).additionalProperty;
      out.push({
        field: path ? `${path}.${member}` : member,
        description: 'is not a field of this message',
        reason: 'UNKNOWN_FIELD',
      });
    } else if (!typed.has(path)) {
      typed.add(path);
      out.push({
        field: path || '(body)',
        description:
          error.keyword === 'format'
            ? `is not a valid ${String(error.params['format'])}`
            : 'has the wrong type or value',
        reason: 'WRONG_TYPE',
      });
    }
  }
  return [...out, ...missing];
}
