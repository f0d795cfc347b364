/**
 * The kinds of command most of the CLI is made of, declared rather than written out: a listing
 * paged through a REST route, and a read of one route. Each command states its face (name,
 * synopsis, help), the request its flags make, and how the answer reads; the kind does the rest
 * the same way every time (flags checked before anything is sent, --json, paging).
 */
import type { ParseArgsOptionsConfig } from 'node:util';
import { jsonText, readPages, type Command, type Context } from './context.js';
import type { CallOptions } from './http.js';
import { PAGE_OPTIONS, pageSizeFlag, writeListing } from './listing.js';

/** What a command shows of itself: everything but its options, arguments and behaviour. */
export type CommandFace = Omit<Command, 'options' | 'args' | 'run'> & {
  readonly options?: ParseArgsOptionsConfig;
  readonly args?: readonly string[];
};

/** The route a command calls and its query, as its flags give them. */
export interface RouteRequest {
  readonly path: string;
  readonly query?: CallOptions['query'];
}

/** Writes `json` as JSON with --json, else `text()` (called only then); exit code 0. */
export function print(context: Context, json: unknown, text: () => string): number {
  context.io.stdout.write(context.json ? jsonText(json) : text());
  return 0;
}

/** One page of a listing: its items under `K`, and where the next page starts. */
export type Page<K extends string, T> = { readonly [k in K]?: readonly T[] } & {
  readonly nextPageToken?: string;
};

/** A listing read a page at a time (`--page-size`, `--page-token`, `--all`). */
export interface PagedListSpec<
  K extends string,
  T,
  P extends Page<K, T>,
  R extends RouteRequest,
> extends CommandFace {
  /** The field of each page holding its items: also their key in --json --all and in "more …". */
  readonly key: K;
  /** The largest page the route serves, which `--page-size` is checked against. */
  readonly maxPageSize: number;
  /** The route and query the flags ask for; a flag's mistake throws here, before anything is sent. */
  readonly request: (context: Context) => R;
  /** The items of every page read, as text; `last` is the last page read. */
  readonly text: (items: readonly T[], request: R, last: P) => string;
  /** More for --json --all to print beside the items, from the last page. */
  readonly allJson?: (last: P) => Record<string, unknown>;
}

/** A listing command: the spec's own options, then the paging flags. */
export function pagedListCommand<
  K extends string,
  T,
  P extends Page<K, T> = Page<K, T>,
  R extends RouteRequest = RouteRequest,
>(spec: PagedListSpec<K, T, P, R>): Command {
  const { key, maxPageSize, request, text, allJson, options, args, ...face } = spec;
  return {
    ...face,
    options: { ...options, ...PAGE_OPTIONS },
    args: args ?? [],
    async run(context) {
      const route = request(context);
      const pageSize = pageSizeFlag(context, maxPageSize);
      const client = context.client();
      const { pages, last } = await readPages(context, (pageToken) =>
        client.call<P>('GET', route.path, { query: { pageSize, pageToken, ...route.query } }),
      );
      const items = pages.flatMap((page: Page<K, T>) => page[key] ?? []);
      return writeListing(context, { key, items, last }, (all) => text(all, route, last), allJson?.(last));
    },
  };
}

/** One GET of a route: its answer as JSON (or what `json` picks of it), or as text. */
export interface GetSpec<A, R extends RouteRequest> extends CommandFace {
  /** The route and query the flags and arguments ask for; a mistake throws before anything is sent. */
  readonly request: (context: Context) => R;
  readonly text: (answer: A, request: R) => string;
  /** What --json prints; the whole answer when absent. */
  readonly json?: (answer: A) => unknown;
}

export function getCommand<A, R extends RouteRequest = RouteRequest>(spec: GetSpec<A, R>): Command {
  const { request, text, json, options, args, ...face } = spec;
  return {
    ...face,
    options: options ?? {},
    args: args ?? [],
    async run(context) {
      const route = request(context);
      const answer = await context
        .client()
        .call<A>('GET', route.path, route.query === undefined ? {} : { query: route.query });
      return print(context, json ? json(answer) : answer, () => text(answer, route));
    },
  };
}

/** Flags that take one value each: `valueOptions('id', 'name')`. */
export function valueOptions<N extends string>(...names: N[]): Record<N, { type: 'string' }> {
  return Object.fromEntries(names.map((name) => [name, { type: 'string' }])) as Record<N, { type: 'string' }>;
}

/** Flags that may be given more than once, each a list (`listFlag` reads them). */
export function listOptions<N extends string>(...names: N[]): Record<N, { type: 'string'; multiple: true }> {
  return Object.fromEntries(names.map((name) => [name, { type: 'string', multiple: true }])) as Record<
    N,
    { type: 'string'; multiple: true }
  >;
}

/** `--version N | --update`, as every put of a versioned record takes them. */
export const VERSIONED_PUT_OPTIONS = { version: { type: 'string' }, update: { type: 'boolean' } } as const;
