import { describe, expect, it } from 'vitest';
import { readPages, type Context } from './context.js';

/** Only what readPages reads of a command's context: --page-token and --all. */
const flags = (pageToken: string | undefined, all: boolean) =>
  ({ string: () => pageToken, flag: () => all }) as unknown as Context;

describe('reading pages', () => {
  const gateway = (next: Record<string, string | undefined>) => {
    const asked: (string | undefined)[] = [];
    const fetch = async (token: string | undefined) => {
      asked.push(token);
      return { id: token ?? 'first', nextPageToken: next[token ?? 'first'] };
    };
    return { asked, fetch };
  };

  it('reads the page --page-token names, and only that one without --all', async () => {
    const g = gateway({ first: 'b', b: 'c' });
    const { pages, last } = await readPages(flags('b', false), g.fetch);
    expect(g.asked).toEqual(['b']);
    expect(pages.map((p) => p.id)).toEqual(['b']);
    expect(last.nextPageToken).toBe('c');
  });

  it('with --all follows every token to the last page', async () => {
    const g = gateway({ first: 'b', b: 'c', c: undefined });
    const { pages, last } = await readPages(flags(undefined, true), g.fetch);
    expect(pages.map((p) => p.id)).toEqual(['first', 'b', 'c']);
    expect(last.id).toBe('c');
  });

  it('stops at a token it has followed before instead of looping forever', async () => {
    const g = gateway({ first: 'b', b: 'c', c: 'b' });
    const { pages } = await readPages(flags(undefined, true), g.fetch);
    expect(g.asked).toEqual([undefined, 'b', 'c']);
    expect(pages.map((p) => p.id)).toEqual(['first', 'b', 'c']);
  });
});
