import { createHash } from 'node:crypto';
import type { Metadata } from '@grpc/grpc-js';
import { controlCharacterProblem, FilterError, RULE_VIOLATIONS, type RuleViolation } from '@beacon/domain';
import { invalidArgument, type FieldViolation } from './grpc-handler.js';
import { checkpointProblems, type ChainEnd } from './hash-chain.js';

/** The metadata (and HTTP header) a client names a retry-safe write by. */
export const IDEMPOTENCY_KEY_METADATA = 'idempotency-key';

/**
 * What an idempotency key may be: long enough not to collide by accident, short and plain
 * enough to store, index and log as it is.
 */
export const IDEMPOTENCY_KEY = /^[A-Za-z0-9._:-]{8,128}$/;

/** A write's idempotency key and a digest of the request it guards. */
export interface Idempotency {
  readonly key: string;
  /** SHA-256 of the guarded bytes, lower-case hex: a retry must send the same bytes. */
  readonly requestHash: string;
}

/**
 * How free text is read: a field's `beacon.api.v1.field` rules in proto/, from the generated
 * `FIELD_RULES` table.
 */
export interface TextOptions {
  /** Most characters (UTF-16 code units) after trimming; the violation names it. */
  readonly maxLength: number;
  /** Empty (after trimming) is a violation. */
  readonly required?: boolean;
  /**
   * Line breaks and tabs allowed (a description, a note, a reason); a title or a name is one
   * line, because it lands in log lines, CSV cells and e-mail subjects.
   */
  readonly multiline?: boolean;
}

/** An id's shape, from the generated `FIELD_RULES` table: what matches, and its name. */
export interface IdRule {
  readonly pattern: RegExp;
  /** How a violation names the shape: "is not <what>". */
  readonly what: string;
  /** Empty (the field left unset) is allowed as well. */
  readonly optional?: boolean;
}

/** A repeated id field's rules: at most `maxItems` ids, each of one shape. */
export interface IdsRule extends IdRule {
  readonly maxItems: number;
}

/** The values of `T`, every one known to be present. */
export type Complete<T> = { [K in keyof T]: Exclude<T[K], undefined> };

/** A proto field's name from its generated camelCase one, for field paths: `rsitType` → `rsit_type`. */
export const protoFieldName = (camel: string): string =>
  camel.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

/** SHA-256 of a request's bytes, lower-case hex: what stored idempotency records compare. */
export function requestHash(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/**
 * Collects every violation of a request at once, so a client fixes them in one round trip;
 * `check` and `complete` then refuse with INVALID_ARGUMENT carrying google.rpc.BadRequest
 * (the first few violations, see `invalidArgument`). Each check returns the clean value, or
 * undefined after recording why not. A service extends it with the checks of its own domain.
 */
export class RequestValidator {
  readonly violations: FieldViolation[] = [];

  /** Records a violation; `reason` is UPPER_SNAKE_CASE, for clients to branch on. */
  fail(field: string, description: string, reason: string): undefined {
    this.violations.push({ field, description, reason });
    return undefined;
  }

  /** Records the violation of one of a field's rules. */
  rule(field: string, violation: RuleViolation): undefined {
    return this.fail(field, violation.description, violation.reason);
  }

  /** Throws INVALID_ARGUMENT naming every violation recorded so far. */
  check(): void {
    if (this.violations.length > 0) throw invalidArgument(this.violations);
  }

  /** Throws INVALID_ARGUMENT naming every violation; otherwise returns the values, all present. */
  complete<T extends object>(values: T): Complete<T> {
    this.check();
    return values as Complete<T>;
  }

  /** Chain ends a caller kept from an earlier verification, to verify against. */
  checkpoint(field: string, ends: readonly { recordId: string; hash: string }[]): ChainEnd[] {
    const checkpoint = ends.map((e) => ({ id: e.recordId, hash: e.hash }));
    for (const p of checkpointProblems(field, checkpoint)) this.fail(p.field, p.description, 'INVALID');
    return checkpoint;
  }

  /** Free text, trimmed; a control character is refused with its code point and position. */
  text(field: string, value: string, options: TextOptions): string {
    const trimmed = value.trim();
    if (options.required && trimmed === '') this.rule(field, RULE_VIOLATIONS.required());
    if (trimmed.length > options.maxLength) this.rule(field, RULE_VIOLATIONS.tooLong(options.maxLength));
    const control = controlCharacterProblem(trimmed, { multiline: options.multiline ?? false });
    if (control) this.fail(field, control, 'CONTROL_CHARACTERS');
    return trimmed;
  }

  /** An id of the rule's shape (or empty, when the rule allows it). */
  id(field: string, value: string, rule: IdRule): string {
    if (rule.optional && value === '') return value;
    if (!rule.pattern.test(value)) this.rule(field, RULE_VIOLATIONS.notId(rule.what));
    return value;
  }

  /** At most `maxItems` ids, each of the rule's shape; repeats are dropped. */
  ids(field: string, values: readonly string[], rule: IdsRule): string[] {
    if (values.length > rule.maxItems) {
      this.rule(field, RULE_VIOLATIONS.tooMany(rule.maxItems));
      return [];
    }
    values.forEach((v, i) => {
      if (!rule.pattern.test(v)) this.rule(`${field}[${i}]`, RULE_VIOLATIONS.notId(rule.what));
    });
    return [...new Set(values)];
  }

  /** At most `maxItems` elements: a violation, and false, when there are more. */
  atMost(field: string, values: readonly unknown[], rule: { readonly maxItems: number }): boolean {
    if (values.length <= rule.maxItems) return true;
    this.rule(field, RULE_VIOLATIONS.tooMany(rule.maxItems));
    return false;
  }

  /** `page_size`: 0 (unset) means `fallback`; anything else must be from 1 to `max`. */
  pageSize(value: number, limits: { readonly max: number; readonly fallback: number }): number {
    if (!Number.isInteger(value) || value < 0 || value > limits.max)
      this.rule('page_size', RULE_VIOLATIONS.outOfRange(0, limits.max));
    return value || limits.fallback;
  }

  /** An optimistic-concurrency version: 0 (unset) or the version the client last read. */
  expectedVersion(field: string, value: number): void {
    if (value < 0) this.fail(field, 'must not be negative', 'OUT_OF_RANGE');
  }

  /**
   * A value in a small language (a filter, an ordering), parsed; a `FilterError` becomes a
   * violation of the field naming the position and what was expected there.
   */
  parsed<T>(field: string, text: string, parse: (text: string) => T, reason: string): T | undefined {
    try {
      return parse(text);
    } catch (error) {
      if (!(error instanceof FilterError)) throw error;
      return this.fail(field, error.message, reason);
    }
  }

  /** A client's idempotency key, however it was sent (metadata, a row's own reference). */
  idempotencyKey(field: string, key: unknown): string | undefined {
    if (typeof key === 'string' && IDEMPOTENCY_KEY.test(key)) return key;
    return this.fail(field, 'must be 8 to 128 letters, digits or . _ : -', 'INVALID_IDEMPOTENCY_KEY');
  }

  /**
   * The `idempotency-key` metadata, checked, with a digest of `requestBytes`, the part of the
   * request it guards; undefined when no key was sent (or it was refused).
   */
  idempotencyOf(metadata: Metadata, requestBytes: Uint8Array): Idempotency | undefined {
    const sent = metadata.get(IDEMPOTENCY_KEY_METADATA)[0];
    if (sent === undefined) return undefined;
    const key = this.idempotencyKey(IDEMPOTENCY_KEY_METADATA, sent);
    return key === undefined ? undefined : { key, requestHash: requestHash(requestBytes) };
  }
}
