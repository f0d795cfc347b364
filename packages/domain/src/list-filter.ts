/**
 * List filters in the AIP-160 language (google.aip.dev/160), parsed against the fields a list
 * offers. The grammar kept here:
 *
 *     filter      = [expression]
 *     expression  = sequence {"AND" sequence}
 *     sequence    = factor {factor}              (juxtaposition is AND)
 *     factor      = term {"OR" term}             (OR binds tighter than AND, as AIP-160 says)
 *     term        = ["NOT" | "-"] simple
 *     simple      = restriction | "(" expression ")"
 *     restriction = field comparator value | field ":" "*"
 *     comparator  = "=" | "!=" | "<" | "<=" | ">" | ">=" | ":"
 *     value       = "double-quoted" | 'single-quoted' | text
 *
 * Every value is checked against its field here, so what reaches a store is typed and
 * canonical. The parser is bounded: the filter's length, its number of restrictions and its
 * nesting have limits, and each error names the 1-based character position, what was expected
 * there and what was found.
 */

export type Comparator = '=' | '!=' | '<' | '<=' | '>' | '>=' | ':';

/** Longest first, so `<=` is not read as `<`. */
const COMPARATORS: readonly Comparator[] = ['<=', '>=', '!=', '=', '<', '>', ':'];

export const ALL_COMPARATORS: readonly Comparator[] = ['=', '!=', '<', '<=', '>', '>=', ':'];

/** The value types fields hold, by field name. */
export type FieldValues = Readonly<Record<string, string | number | Date>>;

export interface FilterField<V> {
  /** The comparators the field takes. */
  readonly comparators: readonly Comparator[];
  /** The canonical value for the text, or undefined when the text is not a value of the field. */
  readonly parse: (text: string) => V | undefined;
  /** What a value looks like, for errors: `a CISA sector such as "energy"`. */
  readonly expected: string;
  /** Whether `field:*` (the field is set / the list is not empty) is allowed. */
  readonly presence?: boolean;
}

export interface FilterSchema<M extends FieldValues> {
  readonly fields: { readonly [K in keyof M & string]: FilterField<M[K]> };
  /** Other names for fields, e.g. `tlp` for `label`. */
  readonly aliases?: Readonly<Record<string, keyof M & string>>;
}

export interface FilterLimits {
  /** Characters (code points). */
  readonly maxLength: number;
  /** Restrictions (`field op value`). */
  readonly maxTerms: number;
  /** Parentheses nested in one another. */
  readonly maxDepth: number;
}

export const DEFAULT_FILTER_LIMITS: FilterLimits = { maxLength: 2_000, maxTerms: 32, maxDepth: 8 };

/** One comparison, or a presence test (`field:*`). */
export type Restriction<M extends FieldValues> = {
  readonly [K in keyof M & string]:
    | { readonly kind: 'compare'; readonly field: K; readonly comparator: Comparator; readonly value: M[K] }
    | { readonly kind: 'present'; readonly field: K };
}[keyof M & string];

export type FilterExpr<M extends FieldValues> =
  | { readonly kind: 'and'; readonly operands: readonly FilterExpr<M>[] }
  | { readonly kind: 'or'; readonly operands: readonly FilterExpr<M>[] }
  | { readonly kind: 'not'; readonly operand: FilterExpr<M> }
  | Restriction<M>;

/** A filter that is not one: where, what was expected there, and what was found. */
export class FilterError extends Error {
  override readonly name = 'FilterError';

  constructor(
    /** 1-based character position. */
    readonly position: number,
    readonly expected: string,
    readonly found: string,
  ) {
    super(`position ${position}: expected ${expected}, found ${found}`);
  }
}

/**
 * The filter as an expression over the schema's fields; undefined for an empty filter (which
 * matches everything). Throws `FilterError`.
 */
export function parseFilter<M extends FieldValues>(
  text: string,
  schema: FilterSchema<M>,
  limits: FilterLimits = DEFAULT_FILTER_LIMITS,
): FilterExpr<M> | undefined {
  // UTF-16 length bounds the code-point count from above: refuse a huge input before splitting it.
  if (text.length > limits.maxLength * 2 || [...text].length > limits.maxLength) {
    throw new FilterError(
      limits.maxLength + 1,
      `a filter of at most ${limits.maxLength} characters`,
      'a longer one',
    );
  }
  return new Parser([...text], schema, limits).parse();
}

const KEYWORDS = new Set(['AND', 'OR', 'NOT']);
const isSpace = (c: string | undefined) => c !== undefined && /^\s$/u.test(c);
const isNameStart = (c: string | undefined) => c !== undefined && /^[A-Za-z_]$/.test(c);
const isNameChar = (c: string | undefined) => c !== undefined && /^[A-Za-z0-9_.]$/.test(c);
/** Characters a bare value stops at: space, parentheses, quotes, comparators other than `:`. */
const isValueChar = (c: string | undefined) =>
  c !== undefined && !isSpace(c) && !/^[()"'<>=!,\p{Cc}]$/u.test(c);

class Parser<M extends FieldValues> {
  #at = 0;
  #terms = 0;
  #depth = 0;

  constructor(
    private readonly chars: readonly string[],
    private readonly schema: FilterSchema<M>,
    private readonly limits: FilterLimits,
  ) {}

  parse(): FilterExpr<M> | undefined {
    this.#skipSpace();
    if (this.#atEnd()) return undefined;
    const expression = this.#expression();
    this.#skipSpace();
    if (!this.#atEnd()) this.#fail('AND, OR, another restriction or the end of the filter');
    return expression;
  }

  #expression(): FilterExpr<M> {
    return this.#joined('AND', () => this.#sequence());
  }

  /** Operands joined by `word`: the one alone, or all of them under it (AND binds looser than OR). */
  #joined(word: 'AND' | 'OR', operand: () => FilterExpr<M>): FilterExpr<M> {
    const operands = [operand()];
    for (;;) {
      const mark = this.#at;
      this.#skipSpace();
      if (this.#word() !== word) {
        this.#at = mark;
        break;
      }
      this.#at += word.length;
      operands.push(operand());
    }
    if (operands.length === 1) return operands[0]!;
    return word === 'AND' ? { kind: 'and', operands } : { kind: 'or', operands };
  }

  #sequence(): FilterExpr<M> {
    const operands = [this.#factor()];
    for (;;) {
      const mark = this.#at;
      this.#skipSpace();
      const next = this.#peek();
      // Another factor follows only after a space (or an opening parenthesis).
      if (this.#at === mark && next !== '(') break;
      if (this.#atEnd() || next === ')' || this.#word() === 'AND' || this.#word() === 'OR') {
        this.#at = mark;
        break;
      }
      operands.push(this.#factor());
    }
    return operands.length === 1 ? operands[0]! : { kind: 'and', operands };
  }

  #factor(): FilterExpr<M> {
    return this.#joined('OR', () => this.#term());
  }

  #term(): FilterExpr<M> {
    this.#skipSpace();
    let negated = false;
    if (this.#word() === 'NOT') {
      this.#at += 3;
      negated = true;
    } else if (this.#peek() === '-' && this.#isTermStart(this.chars[this.#at + 1])) {
      this.#at += 1;
      negated = true;
    }
    const simple = this.#simple();
    return negated ? { kind: 'not', operand: simple } : simple;
  }

  #simple(): FilterExpr<M> {
    this.#skipSpace();
    if (this.#peek() !== '(') return this.#restriction();
    const open = this.#at;
    if (++this.#depth > this.limits.maxDepth) {
      this.#fail(`at most ${this.limits.maxDepth} parentheses nested in one another`, 'one more');
    }
    this.#at += 1;
    const inner = this.#expression();
    this.#skipSpace();
    if (this.#peek() !== ')') this.#fail(`")" to close the "(" at position ${open + 1}`);
    this.#at += 1;
    this.#depth -= 1;
    return inner;
  }

  #restriction(): Restriction<M> {
    const start = this.#at;
    const name = this.#name();
    if (name === undefined || KEYWORDS.has(name)) this.#fail('a field name, "(" or NOT');
    if (++this.#terms > this.limits.maxTerms) {
      this.#fail(`at most ${this.limits.maxTerms} restrictions`, 'one more', start);
    }
    const field = this.#field(name, start);
    this.#at += name.length;
    this.#skipSpace();
    const { fields } = this.schema;
    const spec: FilterField<M[typeof field]> = fields[field];
    const comparator = COMPARATORS.find(
      (c) => this.chars.slice(this.#at, this.#at + c.length).join('') === c,
    );
    const allowed = spec.comparators.map((c) => `"${c}"`).join(', ');
    if (!comparator) this.#fail(`a comparator after ${field} (one of ${allowed})`);
    if (!spec.comparators.includes(comparator)) {
      this.#fail(`a comparator that ${field} takes (${allowed})`, `"${comparator}"`);
    }
    this.#at += comparator.length;
    this.#skipSpace();
    const valueAt = this.#at;
    if (comparator === ':' && this.#peek() === '*' && !isValueChar(this.chars[this.#at + 1])) {
      if (!spec.presence) this.#fail(spec.expected, '"*"');
      this.#at += 1;
      return { kind: 'present', field };
    }
    const text = this.#value();
    if (text === undefined) this.#fail(`${spec.expected} after "${comparator}"`);
    const value = spec.parse(text);
    if (value === undefined) this.#fail(spec.expected, JSON.stringify(text), valueAt);
    return { kind: 'compare', field, comparator: comparator, value };
  }

  /** The canonical field a name stands for, or a failure listing the fields. */
  #field(name: string, at: number): keyof M & string {
    const { fields, aliases } = this.schema;
    const canonical = Object.hasOwn(fields, name)
      ? (name as keyof M & string)
      : aliases && Object.hasOwn(aliases, name)
        ? aliases[name]
        : undefined;
    if (canonical !== undefined) return canonical;
    const keyword = KEYWORDS.has(name.toUpperCase()) ? ` (operators are written ${name.toUpperCase()})` : '';
    return this.#fail(
      `a field (one of ${Object.keys(fields).join(', ')})`,
      `${JSON.stringify(name)}${keyword}`,
      at,
    );
  }

  #value(): string | undefined {
    const quote = this.#peek();
    if (quote === '"' || quote === "'") return this.#quoted(quote);
    const start = this.#at;
    while (isValueChar(this.#peek())) this.#at += 1;
    return this.#at > start ? this.chars.slice(start, this.#at).join('') : undefined;
  }

  #quoted(quote: string): string {
    const open = this.#at;
    let out = '';
    this.#at += 1;
    for (;;) {
      const c = this.#peek();
      if (c === undefined) this.#fail(`a closing ${quote} for the string at position ${open + 1}`);
      if (/^\p{Cc}$/u.test(c)) this.#fail(`a closing ${quote} for the string at position ${open + 1}`);
      this.#at += 1;
      if (c === quote) return out;
      if (c === '\\') {
        const escaped = this.#peek();
        if (escaped !== '\\' && escaped !== '"' && escaped !== "'") {
          this.#fail('\\\\, \\" or \\\' after a backslash');
        }
        out += escaped;
        this.#at += 1;
      } else {
        out += c;
      }
    }
  }

  /** A run of name characters at the cursor, not consumed. */
  #name(): string | undefined {
    if (!isNameStart(this.#peek())) return undefined;
    let end = this.#at + 1;
    while (isNameChar(this.chars[end])) end += 1;
    return this.chars.slice(this.#at, end).join('');
  }

  /** A whole name at the cursor, so `ANDROID` is not `AND`; not consumed. */
  #word(): string | undefined {
    return this.#name();
  }

  #isTermStart(c: string | undefined): boolean {
    return c === '(' || isNameStart(c);
  }

  #skipSpace(): void {
    while (isSpace(this.#peek())) this.#at += 1;
  }

  #peek(): string | undefined {
    return this.chars[this.#at];
  }

  #atEnd(): boolean {
    return this.#at >= this.chars.length;
  }

  #fail(expected: string, found?: string, at = this.#at): never {
    throw new FilterError(at + 1, expected, found ?? this.#foundAt(at));
  }

  /** What is at a position, as an error shows it. */
  #foundAt(at: number): string {
    const c = this.chars[at];
    if (c === undefined) return 'the end of the filter';
    if (/^[\p{Cc}\s]$/u.test(c))
      return `character U+${c.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`;
    let end = at + 1;
    if (isNameChar(c)) while (isNameChar(this.chars[end])) end += 1;
    else if (isValueChar(c)) while (isValueChar(this.chars[end])) end += 1;
    const shown = this.chars.slice(at, Math.min(end, at + 24)).join('');
    return JSON.stringify(end - at > 24 ? `${shown}…` : shown);
  }
}

const RFC3339 =
  /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?(?:[Zz]|([+-])(\d{2}):(\d{2}))$/;

/**
 * An RFC 3339 timestamp (`2026-01-31T08:00:00Z`, `…T09:00:00.5+01:00`) as a Date, or
 * undefined: a date that does not exist (`02-30`) is refused, not rolled over. Fractions past
 * milliseconds are dropped.
 */
export function parseTimestamp(text: string): Date | undefined {
  const m = RFC3339.exec(text);
  if (!m) return undefined;
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  const local = new Date(Date.UTC(year, month - 1, day, hour, minute, second));
  local.setUTCFullYear(year); // years 0–99 are not shifted to 19xx
  const exists =
    local.getUTCFullYear() === year &&
    local.getUTCMonth() === month - 1 &&
    local.getUTCDate() === day &&
    local.getUTCHours() === hour &&
    local.getUTCMinutes() === minute &&
    local.getUTCSeconds() === second;
  const [sign, offsetHours, offsetMinutes] = [m[8], Number(m[9] ?? 0), Number(m[10] ?? 0)];
  if (!exists || offsetHours > 23 || offsetMinutes > 59) return undefined;
  const offsetMs = (sign === '-' ? -1 : 1) * (offsetHours * 60 + offsetMinutes) * 60_000;
  const millis = m[7] ? Math.floor(Number(`0${m[7]}`) * 1000) : 0;
  return new Date(local.getTime() - offsetMs + millis);
}
