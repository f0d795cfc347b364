import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { ParseArgsOptionsConfig } from 'node:util';
import { GatewayClient } from './http.js';
import { UsageError, type Io } from './io.js';

/** What a command gets: its parsed flags and arguments, and the ways to reach out. */
export interface Context {
  readonly io: Io;
  /** Positional arguments after the command's own words. */
  readonly args: readonly string[];
  /** `--json`: print the gateway's JSON rather than the human view. */
  readonly json: boolean;
  /** A flag's text value, or undefined when not given. */
  string(name: string): string | undefined;
  /** Every value of a flag given more than once. */
  strings(name: string): string[];
  /** Whether a boolean flag was given. */
  flag(name: string): boolean;
  /** A client for the gateway, once --token / BEACON_TOKEN is known to be set. */
  client(): GatewayClient;
  /** A file's text, the path resolved against the working directory. */
  readText(path: string): Promise<string>;
  /** A path resolved against the working directory. */
  path(path: string): string;
}

/** One `beacon …` command. */
export interface Command {
  /** The words that select it, e.g. `incidents list`. */
  readonly name: string;
  /** What follows the name in the usage line. */
  readonly synopsis: string;
  readonly summary: string;
  /** Which roles may use it (`roles.ts`), shown by `beacon <command> --help`. */
  readonly roles: string;
  /**
   * The gateway's REST routes it calls, as `METHOD /path` exactly as the OpenAPI document
   * spells them; a test checks every route there has a command.
   */
  readonly routes: readonly string[];
  /** More for `beacon <command> --help` only: formats, fields, examples. */
  readonly details?: string;
  readonly options: ParseArgsOptionsConfig;
  /** Names of its positional arguments, each required. */
  readonly args: readonly string[];
  run(context: Context): Promise<number>;
}

export const DEFAULT_URL = 'http://127.0.0.1:8080';

export function createContext(
  io: Io,
  args: readonly string[],
  values: Readonly<Record<string, string | boolean | string[] | undefined>>,
): Context {
  const cwd = io.cwd ?? process.cwd();
  const string = (name: string) => {
    const value = values[name];
    return typeof value === 'string' ? value : undefined;
  };
  return {
    io,
    args,
    json: values['json'] === true,
    string,
    strings: (name) => {
      const value = values[name];
      return Array.isArray(value) ? value : typeof value === 'string' ? [value] : [];
    },
    flag: (name) => values[name] === true,
    client() {
      const baseUrl = string('url') ?? io.env['BEACON_URL'] ?? DEFAULT_URL;
      let url: URL;
      try {
        url = new URL(baseUrl);
      } catch {
        throw new UsageError(`--url ${baseUrl} is not a URL`);
      }
      if (url.protocol !== 'http:' && url.protocol !== 'https:') {
        throw new UsageError(`--url ${baseUrl} must be http or https`);
      }
      const token = string('token') ?? io.env['BEACON_TOKEN'];
      if (!token) {
        throw new UsageError(
          'no token: pass --token or set BEACON_TOKEN ' +
            '(`beacon token --roles coordinator` mints one for development)',
        );
      }
      return new GatewayClient({ baseUrl, token });
    },
    async readText(path) {
      try {
        return await readFile(resolve(cwd, path), 'utf8');
      } catch (error) {
        throw new UsageError(
          `cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`,
        );
      }
    },
    path: (path) => resolve(cwd, path),
  };
}

/** A flag's value as a whole number within bounds, or a UsageError naming the flag. */
export function integerFlag(name: string, text: string, min: number, max = Number.MAX_SAFE_INTEGER): number {
  const value = Number(text);
  if (!/^-?\d+$/.test(text.trim()) || value < min || value > max) {
    const range = max === Number.MAX_SAFE_INTEGER ? `at least ${min}` : `${min} to ${max}`;
    throw new UsageError(`--${name} must be a whole number ${range}, not "${text}"`);
  }
  return value;
}

/** Pretty JSON for --json output. */
export function jsonText(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`;
}

/**
 * The page `--page-token` names (or the first), and with `--all` every page after it, in order.
 * A token seen before ends the walk: the gateway never repeats one, but a proxy might, and
 * following it would loop forever. `last` is the last page read (its `nextPageToken` says
 * whether there is more).
 */
export async function readPages<P extends { readonly nextPageToken?: string }>(
  context: Context,
  fetch: (pageToken: string | undefined) => Promise<P>,
): Promise<{ readonly pages: readonly P[]; readonly last: P }> {
  const pages: P[] = [];
  const seen = new Set<string>();
  let pageToken = context.string('page-token');
  for (;;) {
    const page = await fetch(pageToken);
    pages.push(page);
    pageToken = page.nextPageToken;
    if (!context.flag('all') || !pageToken || seen.has(pageToken)) return { pages, last: page };
    seen.add(pageToken);
  }
}
