import { integerFlag, jsonText, type Context } from './context.js';
import { optional, readJsonObject } from './flags.js';
import type { GatewayClient } from './http.js';
import { UsageError } from './io.js';

/** How a `… put` command of a versioned registry record reads what to send. */
export interface VersionedPut {
  /** The record's field in a wrapped --file and in the request, e.g. `asset`. */
  readonly key: string;
  /** What --file may hold, for the message when it holds something else. */
  readonly fileHolds: string;
  /** The record as the "name the …" message calls it, e.g. `asset`. */
  readonly noun: string;
  /** The fields the command's flags give. */
  flags(): Record<string, unknown>;
  /** The stored record, without what the service sets itself (never sent back), and its version. */
  stored(client: GatewayClient, id: string): Promise<{ version?: number; fields: Record<string, unknown> }>;
}

/**
 * The record a `… put` command sends and the version it replaces: the record of --file (bare, or
 * wrapped under `key` with its `expectedVersion`), the flags over it, the id from --id or the
 * file; the version is --version N, or with --update the stored one's, whose fields then stand
 * under what was given.
 */
export async function versionedPut(
  context: Context,
  put: VersionedPut,
): Promise<{ client: GatewayClient; record: Record<string, unknown>; expectedVersion: number }> {
  const file = context.string('file');
  let base: Record<string, unknown> = {};
  let expectedVersion = 0;
  if (file) {
    const value = await readJsonObject(context, file, put.fileHolds);
    const wrapped = typeof value[put.key] === 'object' && value[put.key] !== null;
    base = wrapped ? (value[put.key] as Record<string, unknown>) : value;
    expectedVersion = wrapped ? Number(value['expectedVersion'] ?? 0) : 0;
  }
  const flags = put.flags();
  const id = (flags['id'] ?? base['id']) as string | undefined;
  if (!id) throw new UsageError(`name the ${put.noun}: --id, or "id" in --file`);
  const versionFlag = optional(context, 'version', (text) => integerFlag('version', text, 0));
  if (versionFlag !== undefined && context.flag('update')) {
    throw new UsageError('give --version or --update, not both');
  }
  if (versionFlag !== undefined) expectedVersion = versionFlag;
  const client = context.client();
  if (context.flag('update')) {
    const { version, fields } = await put.stored(client, id);
    base = { ...fields, ...base };
    expectedVersion = version ?? 0;
  }
  return { client, record: { ...base, ...flags, id }, expectedVersion };
}

/** A put that sends its record to one route and prints what it stored. */
export interface VersionedPutRoute<R> extends VersionedPut {
  /** The route taking `{ [key]: record, expectedVersion }` and answering `{ [key]: stored }`. */
  readonly route: string;
  /** What a first put (version 0) did, e.g. `created`; any other `updated`. */
  readonly createdVerb: string;
  /** The stored record as text, ending in a newline. */
  details(record: R): string;
}

/** Runs a versioned put: reads what to send, sends it, prints the record stored (or the JSON). */
export async function runVersionedPut<R extends { readonly id: string; readonly version?: number }>(
  context: Context,
  put: VersionedPutRoute<R>,
): Promise<number> {
  const { client, record, expectedVersion } = await versionedPut(context, put);
  const response = await client.call<Record<string, R>>('POST', put.route, {
    body: { [put.key]: record, expectedVersion },
  });
  const stored = response[put.key]!;
  context.io.stdout.write(
    context.json
      ? jsonText(response)
      : `${expectedVersion === 0 ? put.createdVerb : 'updated'} ${stored.id} (version ${stored.version ?? 0})\n${put.details(stored)}`,
  );
  return 0;
}
