/**
 * Censoring log objects at any depth. pino's own `redact` paths match fixed positions (`*.x`
 * is one level), so a token three objects down, or in an array, or under a key spelled
 * `Signing_Seed`, slipped through. This walks the object instead, to a fixed depth, copying
 * only the branches it changes: a line with nothing to censor costs one pass over its keys.
 */

/** Keys whose values never reach a log line, compared lower-cased without `_` and `-`. */
const SENSITIVE_KEYS = new Set([
  'authorization',
  'proxyauthorization',
  'cookie',
  'setcookie',
  'password',
  'passwd',
  'passphrase',
  'secret',
  'token',
  'jwt',
  'creds',
  'credentials',
  'seed',
  'nkey',
  'apikey',
  'privatekey',
  'clientsecret',
  'email',
  'phone',
  'fullname',
  'displayname',
  'dateofbirth',
  'address',
  'iban',
  'pii',
  'reference',
  'references',
  'caseref',
]);

/**
 * Key endings that are as sensitive as the keys themselves: `accessToken`, `signingSeed`,
 * `webhookSecret`, `contactEmail`, `caseReference`, `userCreds`…
 */
const SENSITIVE_SUFFIXES = [
  'token',
  'secret',
  'password',
  'jwt',
  'creds',
  'credentials',
  'seed',
  'apikey',
  'privatekey',
  'email',
  'phone',
  'reference',
];

/** Objects nested deeper than this are cut off: a log line is no place for a whole document. */
export const MAX_LOG_DEPTH = 10;

export const CENSORED = '[redacted]';
const TOO_DEEP = '[too deep]';

// A JWT (three base64url parts, the first two JSON objects) and a NATS nkey seed (`S` + the
// key type + 56 base32 characters) are secrets wherever they appear, whatever the key.
const JWT = /eyJ[A-Za-z0-9_-]{4,}\.eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*/g;
const NKEY_SEED = /\bS[UAONCXP][A-Z2-7]{56}\b/g;

/** Whether a key names a secret or personal data. */
export function isSensitiveKey(key: string): boolean {
  const k = key.toLowerCase().replace(/[-_]/g, '');
  return SENSITIVE_KEYS.has(k) || SENSITIVE_SUFFIXES.some((suffix) => k.endsWith(suffix));
}

/** A string with any JWT or nkey seed in it censored; the same string when there is none. */
export function censorSecretsInText(text: string): string {
  // Most strings are short words; the patterns need at least ~58 characters.
  if (text.length < 40) return text;
  return text.replace(JWT, CENSORED).replace(NKEY_SEED, CENSORED);
}

/**
 * `value` with every sensitive key's value censored, at any depth up to `MAX_LOG_DEPTH`, and
 * secrets recognisable by their form censored in every string. Errors are described by
 * `describeError` first, so their extra properties are walked too. Returns `value` itself
 * when nothing changed; never modifies it.
 */
export function redactDeep(value: unknown, describe: (error: Error) => unknown = describeError): unknown {
  return walk(value, 0, describe, new Set());
}

function walk(
  value: unknown,
  depth: number,
  describe: (error: Error) => unknown,
  path: Set<object>,
): unknown {
  if (typeof value === 'string') return censorSecretsInText(value);
  if (typeof value !== 'object' || value === null) return value;
  if (depth >= MAX_LOG_DEPTH) return TOO_DEEP;
  if (path.has(value)) return '[Circular]';
  if (value instanceof Date || ArrayBuffer.isView(value) || value instanceof ArrayBuffer) return value;
  path.add(value);
  try {
    if (value instanceof Error) return walk(describe(value), depth, describe, path);
    if (Array.isArray(value)) {
      let copy: unknown[] | undefined;
      const items = value as unknown[];
      items.forEach((item, i) => {
        const next = walk(item, depth + 1, describe, path);
        if (next !== item) (copy ??= [...items])[i] = next;
      });
      return copy ?? value;
    }
    // What serialises by its own rules (a Date, an ObjectId, a Buffer) is left to them; any
    // other object is written key by key, class instances included, so it is walked.
    if (typeof (value as { toJSON?: unknown }).toJSON === 'function') return value;
    let copy: Record<string, unknown> | undefined;
    for (const key of Object.keys(value)) {
      const item = (value as Record<string, unknown>)[key];
      const next =
        isSensitiveKey(key) && item !== undefined && item !== null
          ? CENSORED
          : walk(item, depth + 1, describe, path);
      if (next !== item) (copy ??= { ...(value as Record<string, unknown>) })[key] = next;
    }
    return copy ?? value;
  } finally {
    path.delete(value);
  }
}

/**
 * An error as a record: type, message, stack, its cause, and its own enumerable properties.
 * A database driver's error carries the documents it failed to write (a bulk write error holds
 * every rejected operation, whole victim cases included): of those only the code, the message,
 * the first failed index and the count are kept.
 */
export function describeError(error: Error): Record<string, unknown> {
  const type = error.constructor?.name || error.name;
  if (/^Mongo/.test(type) || /^Mongo/.test(error.name)) return driverErrorSummary(error, type);
  return {
    ...error,
    type,
    message: error.message,
    stack: error.stack,
    ...(error.cause !== undefined ? { cause: error.cause } : {}),
  };
}

function driverErrorSummary(error: Error, type: string): Record<string, unknown> {
  const e = error as Error & {
    code?: unknown;
    codeName?: unknown;
    writeErrors?: unknown;
    index?: unknown;
  };
  const writeErrors = Array.isArray(e.writeErrors) ? (e.writeErrors as { index?: unknown }[]) : undefined;
  const index = writeErrors?.[0]?.index ?? e.index;
  return {
    type,
    message: error.message,
    ...(e.code !== undefined ? { code: e.code } : {}),
    ...(typeof e.codeName === 'string' ? { codeName: e.codeName } : {}),
    ...(typeof index === 'number' ? { index } : {}),
    ...(writeErrors ? { count: writeErrors.length } : {}),
    stack: error.stack,
  };
}
