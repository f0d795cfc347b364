import { integerFlag, jsonText, type Context } from './context.js';

/** `--page-size N`, `--page-token TOKEN` and `--all`, as every listing command takes them. */
export const PAGE_OPTIONS = {
  'page-size': { type: 'string' },
  'page-token': { type: 'string' },
  all: { type: 'boolean' },
} as const;

/** `--page-size`, checked against the listing's largest page; undefined for the gateway's default. */
export function pageSizeFlag(context: Context, max: number): number | undefined {
  const text = context.string('page-size');
  return text === undefined ? undefined : integerFlag('page-size', text, 1, max);
}

/**
 * Writes a listing read with `readPages`. With --json, the last page as the gateway sent it, or
 * with --all every page's items under `key` (plus `allJson`); as text, `text(items)`, then on
 * stderr where the next page starts, named by `key`.
 */
export function writeListing<T, P extends { readonly nextPageToken?: string }>(
  context: Context,
  listing: { readonly key: string; readonly items: readonly T[]; readonly last: P },
  text: (items: readonly T[]) => string,
  allJson: Record<string, unknown> = {},
): number {
  const { key, items, last } = listing;
  const all = context.flag('all');
  const { stdout, stderr } = context.io;
  if (context.json) {
    stdout.write(jsonText(all ? { [key]: items, ...allJson } : last));
    return 0;
  }
  stdout.write(text(items));
  if (!all && last.nextPageToken) {
    stderr.write(`more ${key}: --page-token ${last.nextPageToken}, or --all for every page\n`);
  }
  return 0;
}
