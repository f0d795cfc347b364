/**
 * Fields the contracts document as "Always present" (e.g. `Severity.level`) are written into
 * REST responses even at their zero value, which the proto3 JSON mapping otherwise leaves out:
 * a client reading `severity.level` must find 0, not nothing. Every other field keeps the
 * mapping's convention. The published document marks them (`required`, with the zero value as
 * `default`), and this fills them in from the same document, so the two cannot disagree.
 */

type Schema = Readonly<Record<string, unknown>>;

interface Plan {
  /** JSON names with the value to write when absent. */
  readonly defaults: readonly (readonly [string, unknown])[];
  /** Members holding messages that (somewhere below) have always-present fields. */
  readonly nested: readonly (readonly [string, 'one' | 'list' | 'map', string])[];
}

const EMPTY: Plan = { defaults: [], nested: [] };
const REF = '#/components/schemas/';

export class AlwaysPresent {
  readonly #schemas: Readonly<Record<string, Schema>>;
  readonly #plans = new Map<string, Plan>();

  constructor(openapi: { components: { schemas: Record<string, unknown> } }) {
    this.#schemas = openapi.components.schemas as Record<string, Schema>;
  }

  /** Writes the always-present fields missing from `json`, a message of type `fullName`, in place. */
  fill(fullName: string, json: unknown): unknown {
    const plan = this.#plan(fullName, new Set());
    if (plan === EMPTY || typeof json !== 'object' || json === null) return json;
    const message = json as Record<string, unknown>;
    for (const [name, value] of plan.defaults) if (!(name in message)) message[name] = value;
    for (const [name, shape, type] of plan.nested) {
      const value = message[name];
      if (value === undefined || value === null) continue;
      if (shape === 'one') this.fill(type, value);
      else if (shape === 'list' && Array.isArray(value)) for (const item of value) this.fill(type, item);
      else if (shape === 'map' && typeof value === 'object')
        for (const item of Object.values(value)) this.fill(type, item);
    }
    return json;
  }

  #plan(fullName: string, visiting: Set<string>): Plan {
    const known = this.#plans.get(fullName);
    if (known) return known;
    // A message that contains itself: the outer walk covers it.
    if (visiting.has(fullName)) return EMPTY;
    visiting.add(fullName);
    const schema = this.#schemas[fullName];
    const properties = (schema?.['properties'] ?? {}) as Record<string, Schema>;
    const required = new Set((schema?.['required'] ?? []) as string[]);
    const defaults: [string, unknown][] = [];
    const nested: [string, 'one' | 'list' | 'map', string][] = [];
    for (const [name, property] of Object.entries(properties)) {
      // The proto field name is accepted in requests as an alias; responses use JSON names.
      if (property['deprecated']) continue;
      if (required.has(name) && 'default' in property) defaults.push([name, property['default']]);
      const reference = (shape: 'one' | 'list' | 'map', s: unknown) => {
        const ref = (s as Schema | undefined)?.['$ref'];
        if (typeof ref !== 'string' || !ref.startsWith(REF)) return;
        const type = ref.slice(REF.length);
        if (this.#plan(type, visiting) !== EMPTY) nested.push([name, shape, type]);
      };
      reference('one', property);
      if (property['type'] === 'array') reference('list', property['items']);
      if (property['type'] === 'object') reference('map', property['additionalProperties']);
    }
    visiting.delete(fullName);
    const plan = defaults.length === 0 && nested.length === 0 ? EMPTY : { defaults, nested };
    this.#plans.set(fullName, plan);
    return plan;
  }
}
