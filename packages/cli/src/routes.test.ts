import { readdir, readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { COMMANDS } from './index.js';

/**
 * The rule: every operation in the gateway's OpenAPI document is a task for some person. The
 * document holds the public door's REST routes only, derived from the proto's
 * `google.api.http` options; the door refuses service identities, and health, metrics, the
 * document itself and `/public` are not in it. So each route there has a `beacon` command,
 * unless it is listed below with the reason a person never needs it from a terminal.
 */
const EXCLUDED: ReadonlyMap<string, string> = new Map<string, string>([
  // None today. An entry reads: ['POST /v1/…', 'why no person calls it from the CLI'].
]);

interface OpenApi {
  readonly paths: Readonly<Record<string, Readonly<Record<string, unknown>>>>;
}

const METHODS = new Set(['get', 'put', 'post', 'delete', 'patch']);

/** `METHOD /path` for every operation of the committed OpenAPI document. */
async function documentedRoutes(): Promise<string[]> {
  const path = createRequire(import.meta.url).resolve('@beacon/gateway/openapi.json');
  const document = JSON.parse(await readFile(path, 'utf8')) as OpenApi;
  return Object.entries(document.paths).flatMap(([route, operations]) =>
    Object.keys(operations)
      .filter((method) => METHODS.has(method))
      .map((method) => `${method.toUpperCase()} ${route}`),
  );
}

describe('the CLI covers the REST door', () => {
  it('has a command for every route of the OpenAPI document, or a reason why not', async () => {
    const documented = await documentedRoutes();
    // The document is read, not empty: a wrong path would make every check below pass.
    expect(documented.length).toBeGreaterThan(60);
    const covered = new Set(COMMANDS.flatMap((command) => command.routes));
    const uncovered = documented.filter((route) => !covered.has(route) && !EXCLUDED.has(route));
    expect(uncovered).toEqual([]);
  });

  it('names only routes the document has, and excludes none a command calls', async () => {
    const documented = new Set(await documentedRoutes());
    const unknown = COMMANDS.flatMap((command) =>
      command.routes.filter((route) => !documented.has(route)).map((route) => `${command.name}: ${route}`),
    );
    expect(unknown).toEqual([]);
    for (const [route, reason] of EXCLUDED) {
      expect({ route, documented: documented.has(route), reason: reason.length > 20 }).toEqual({
        route,
        documented: true,
        reason: true,
      });
      expect(COMMANDS.filter((command) => command.routes.includes(route)).map((c) => c.name)).toEqual([]);
    }
  });

  it('names, for each command, routes that match the calls it makes', async () => {
    // The table is kept beside the code, not apart from it: the literal end of every route a
    // command names (after its last path parameter) appears in the commands' sources.
    const dir = new URL('./commands/', import.meta.url);
    const sources = await Promise.all(
      (await readdir(dir))
        .filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts'))
        .map((f) => readFile(new URL(f, dir), 'utf8')),
    );
    const text = sources.join('\n');
    for (const command of COMMANDS) {
      for (const route of command.routes) {
        // The literal part of the path after the last parameter, e.g. `:acknowledge`, `/audit`.
        const tail = route.split(' ')[1]!.split('}').pop()!;
        if (tail === '' || tail === '/v1/') continue;
        expect({ command: command.name, route, inSource: text.includes(tail) }).toEqual({
          command: command.name,
          route,
          inSource: true,
        });
      }
    }
  });
});
