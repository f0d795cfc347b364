import { z } from 'zod';
import { MIN_DISCLOSURE_THRESHOLD } from '@beacon/domain';
import { ConfigError, env, parseConfig, SERVICE_ENV, secretFrom, serviceConfigFrom } from '@beacon/platform';
import { parseKeyEncryptionKeys, type KeyEncryptionKey } from './adapters/crypto/envelope-cipher.js';

const schema = {
  ...SERVICE_ENV,
  VICTIMS_GRPC_HOST: z.string().default('127.0.0.1'),
  VICTIMS_GRPC_PORT: env.port(50064),
  VICTIMS_DB: env.database('beacon_victims'),
  /**
   * Secret. The key-encryption keys as `id:base64,id:base64` (32 bytes each), or a file
   * holding that (VICTIMS_KEKS_FILE, e.g. a mounted secret): exactly one of the two. Keep an
   * old key listed until `RewrapKeys` reports nothing left under it.
   */
  VICTIMS_KEKS: z.string().min(1).optional(),
  VICTIMS_KEKS_FILE: z.string().min(1).optional(),
  /** The id of the KEK that wraps new data keys; the first listed when absent. */
  VICTIMS_KEK_CURRENT: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,32}$/)
    .optional(),
  /**
   * Secret, at least 32 characters: the key of the keyed hashes (search, references,
   * idempotency). Unlike KEKs it cannot be rotated without rehashing: treat it as long-lived.
   * Or VICTIMS_SEARCH_KEY_FILE; exactly one.
   */
  VICTIMS_SEARCH_KEY: z.string().min(32, 'must be at least 32 characters').optional(),
  VICTIMS_SEARCH_KEY_FILE: z.string().min(1).optional(),
  /**
   * Counts of people in statistics under this are suppressed. Raising it protects more; it is
   * never below 5 (the trust model's floor), and a lower value is refused, not silently raised.
   */
  VICTIMS_STATS_SUPPRESSION_THRESHOLD: z.coerce
    .number()
    .int('must be a whole number')
    .min(
      MIN_DISCLOSURE_THRESHOLD,
      `must be at least ${MIN_DISCLOSURE_THRESHOLD}: smaller counts of people single them out`,
    )
    .max(1000, 'must be at most 1000')
    .default(MIN_DISCLOSURE_THRESHOLD),
  /**
   * Failed status look-ups (a reference that is malformed or leads nowhere: a guess) each caller
   * and each client address may make in a burst, and per minute after it; past that the next
   * look-up is refused with RESOURCE_EXHAUSTED. A victim mistyping their reference a few times
   * stays well inside; someone enumerating references does not.
   */
  VICTIMS_LOOKUP_FAILURES_BURST: z.coerce.number().int().min(1).max(10_000).default(10),
  VICTIMS_LOOKUP_FAILURES_PER_MINUTE: z.coerce.number().positive().max(10_000).default(10),
};

export type VictimsConfig = ReturnType<typeof loadConfig>;

/** The value of a secret given inline or as a file (exactly one); never echoed in an error. */
function secret(raw: Readonly<Record<string, unknown>>, variable: string, fileVariable: string): string {
  const read = secretFrom(raw, variable, fileVariable);
  if (!read) throw new ConfigError([{ variable: `${variable} / ${fileVariable}`, problem: 'set one' }]);
  return read();
}

export function loadConfig(environment: Readonly<Record<string, string | undefined>>) {
  const raw = parseConfig(schema, environment);
  let keks: KeyEncryptionKey[];
  try {
    keks = parseKeyEncryptionKeys(secret(raw, 'VICTIMS_KEKS', 'VICTIMS_KEKS_FILE'));
  } catch (error) {
    if (error instanceof ConfigError) throw error;
    throw new ConfigError([{ variable: 'VICTIMS_KEKS', problem: (error as Error).message }]);
  }
  const current = raw.VICTIMS_KEK_CURRENT ?? keks[0]!.id;
  if (!keks.some((k) => k.id === current)) {
    throw new ConfigError([{ variable: 'VICTIMS_KEK_CURRENT', problem: `names no key in VICTIMS_KEKS` }]);
  }
  const searchKey = secret(raw, 'VICTIMS_SEARCH_KEY', 'VICTIMS_SEARCH_KEY_FILE');
  if (searchKey.length < 32) {
    throw new ConfigError([
      {
        variable: raw.VICTIMS_SEARCH_KEY ? 'VICTIMS_SEARCH_KEY' : 'VICTIMS_SEARCH_KEY_FILE',
        problem: 'must hold at least 32 characters',
      },
    ]);
  }
  return {
    ...serviceConfigFrom(raw, {
      grpc: { host: raw.VICTIMS_GRPC_HOST, port: raw.VICTIMS_GRPC_PORT },
      db: raw.VICTIMS_DB,
    }),
    keys: { keks, current, searchKey },
    stats: { suppressionThreshold: raw.VICTIMS_STATS_SUPPRESSION_THRESHOLD },
    lookupLimits: {
      failuresBurst: raw.VICTIMS_LOOKUP_FAILURES_BURST,
      failuresPerMinute: raw.VICTIMS_LOOKUP_FAILURES_PER_MINUTE,
    },
  } as const;
}
