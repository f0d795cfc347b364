import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import type { FieldViolation } from '@beacon/platform';

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
    this.#ajv = new Ajv2020({ allErrors: true, strict: false });
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

function toViolations(errors: readonly ErrorObject[]): FieldViolation[] {
  const out: FieldViolation[] = [];
  const typed = new Set<string>();
  for (const error of errors) {
    const path = fieldPath(error.instancePath);
    if (error.keyword === 'additionalProperties') {
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
  return out;
}
