import { parseTlp } from '@beacon/domain';
import type { Context } from './context.js';
import { UsageError } from './io.js';

/** A flag's value, or a UsageError naming it when it is missing or empty. */
export function required(context: Context, name: string): string {
  const value = context.string(name);
  if (value === undefined || value === '') throw new UsageError(`--${name} is required`);
  return value;
}

/** A flag's value parsed, or undefined when the flag was not given. */
export function optional<T>(context: Context, name: string, parse: (text: string) => T): T | undefined {
  const value = context.string(name);
  return value === undefined ? undefined : parse(value);
}

/** A time as RFC 3339 in UTC, from anything `Date` reads. */
export function parseTime(flag: string, text: string): string {
  const at = new Date(text);
  if (Number.isNaN(at.getTime())) {
    throw new UsageError(`--${flag} must be a time such as 2026-01-31T08:00:00Z, not "${text}"`);
  }
  return at.toISOString();
}

/** `AMBER+STRICT`, `amber`, `tlp:red` or `TLP_RED` as the enum name the gateway expects. */
export function parseTlpFlag(flag: string, text: string): string {
  const tlp = parseTlp(text.replace(/^TLP_/i, '').replace(/_STRICT$/i, '+STRICT'));
  if (!tlp) throw new UsageError(`--${flag} must be a TLP label such as AMBER, not "${text}"`);
  return `TLP_${tlp.replace('+', '_')}`;
}

/**
 * Every value of a list flag, given comma-separated, repeated, or both:
 * `--sectors energy,water-and-wastewater --sectors communications`. Empty entries are dropped.
 */
export function listFlag(context: Context, name: string): string[] {
  return context
    .strings(name)
    .flatMap((value) => value.split(','))
    .map((value) => value.trim())
    .filter((value) => value !== '');
}

/**
 * A proto enum value from what a person types: `law-enforcement`, `LAW_ENFORCEMENT` or
 * `AGENCY_KIND_LAW_ENFORCEMENT` all give `AGENCY_KIND_LAW_ENFORCEMENT` for prefix `AGENCY_KIND_`.
 * `names` are the lower-case, hyphenated names a person is shown.
 */
export function enumFlag(flag: string, text: string, prefix: string, names: readonly string[]): string {
  const bare = text
    .trim()
    .toUpperCase()
    .replace(/-/g, '_')
    .replace(new RegExp(`^${prefix}`), '');
  const name = names.find((n) => n.toUpperCase().replace(/-/g, '_') === bare);
  if (!name) throw new UsageError(`--${flag} must be one of ${names.join(', ')}, not "${text}"`);
  return `${prefix}${bare}`;
}

/** `AGENCY_KIND_LAW_ENFORCEMENT` as a person writes it, `law-enforcement`. */
export function enumName(value: string | undefined, prefix: string): string {
  if (!value) return '-';
  return value
    .replace(new RegExp(`^${prefix}`), '')
    .toLowerCase()
    .replace(/_/g, '-');
}

/** A file holding one JSON object (a byte-order mark allowed), or a UsageError saying why not. */
export async function readJsonObject(
  context: Context,
  file: string,
  what: string,
): Promise<Record<string, unknown>> {
  const text = await context.readText(file);
  let value: unknown;
  try {
    value = JSON.parse(text.replace(/^\uFEFF/, ''));
  } catch (error) {
    throw new UsageError(`${file} is not JSON: ${(error as Error).message}`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new UsageError(`${file} must hold one JSON object (${what})`);
  }
  return value as Record<string, unknown>;
}

/** `--agency`, or else the agency the token names: an agency's people act for their own. */
export function agencyFlagOrOwn(context: Context): string {
  const agencyId = context.string('agency') ?? tokenClaims(context).agencyId;
  if (!agencyId) throw new UsageError('--agency is required: your token names no agency');
  return agencyId;
}

/**
 * The claims of the bearer token the command will send, read without verifying it (the
 * gateway verifies): enough to default `--agency` to the caller's own agency.
 */
export function tokenClaims(context: Context): { readonly agencyId?: string } {
  const token = context.string('token') ?? context.io.env['BEACON_TOKEN'] ?? '';
  const payload = token.split('.')[1];
  if (!payload) return {};
  try {
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Record<string, unknown>;
    return typeof claims['agency_id'] === 'string' ? { agencyId: claims['agency_id'] } : {};
  } catch {
    return {};
  }
}

/**
 * Copies each `[flag, field]` whose flag was given (an empty value too) into `record`: the
 * fields of a record that flags change one by one, e.g. `[['operator', 'operatorId']]`.
 */
export function copyFlags(
  context: Context,
  record: Record<string, unknown>,
  pairs: readonly (readonly [flag: string, field: string])[],
): void {
  for (const [flag, field] of pairs) {
    const value = context.string(flag);
    if (value !== undefined) record[field] = value;
  }
}
