/**
 * `beacon engagements list`, run in-process against the gateway of a real response stack: an
 * agency's duty officer sees what it is engaged on from its own token, a coordinator names the
 * agency, and a refusal prints as a problem.
 */
import { describe, expect } from 'vitest';
import { run } from '@beacon/cli';
import { test as base, testNames, waitFor } from '@beacon/testkit';
import { BAVARIA, coordinator, openIncident, person, registerAgency } from './support/engagement-scenario.js';
import { startResponseStack, type ResponseStack } from './support/stack.js';

const test = base.extend(
  'stack',
  { scope: 'file' },
  async ({ infra }, { onCleanup }): Promise<ResponseStack> => {
    const stack = await startResponseStack(infra, testNames());
    onCleanup(() => stack.stop());
    await registerAgency(stack, 'cert-water', BAVARIA);
    return stack;
  },
);

interface Result {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

async function beacon(s: ResponseStack, token: string, argv: string[]): Promise<Result> {
  let stdout = '';
  let stderr = '';
  const code = await run(argv, {
    stdout: { write: (text: string) => (stdout += text) },
    stderr: { write: (text: string) => (stderr += text) },
    env: { BEACON_URL: s.http, BEACON_TOKEN: token },
    isTTY: false,
  });
  return { code, stdout, stderr };
}

describe('beacon engagements list', () => {
  test("lists the token's agency's engagements, or a named agency's for a coordinator", async ({
    stack: s,
  }) => {
    const first = await openIncident(s, 'AMBER', BAVARIA, 'cert-water', 'Water works intrusion');
    const second = await openIncident(s, 'GREEN', BAVARIA, 'cert-water', 'Pumping station outage');
    const analyst = await person(s, ['agency_analyst'], 'AMBER', 'cert-water');

    // The agency comes from the token; Visibility follows the responses a moment later.
    const table = await waitFor(
      async () => {
        const listed = await beacon(s, analyst, ['engagements', 'list']);
        expect(listed).toMatchObject({ code: 0, stderr: '' });
        expect(listed.stdout).toContain(first);
        expect(listed.stdout).toContain(second);
        return listed.stdout;
      },
      { what: 'both engagements listed', timeoutMs: 20_000, intervalMs: 250 },
    );
    const lines = table.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^INCIDENT\s+STATE\s+TLP\s+STEP\s+ACKNOWLEDGEMENT\s+NEXT REPORT DUE\s+TITLE$/);
    const row = lines.find((l) => l.startsWith(first))!;
    expect(row).toMatch(
      /NOTIFIED\s+AMBER\s+duty-officer #0, round 1\s+acknowledge by \d{4}-\d\d-\d\d \d\d:\d\dZ/,
    );
    expect(row).toContain('Water works intrusion');

    // --json gives the gateway's page, for scripts; --page-size 1 says where more are.
    const paged = await beacon(s, analyst, ['engagements', 'list', '--json', '--page-size', '1']);
    expect(paged.code).toBe(0);
    const page = JSON.parse(paged.stdout) as { engagements: { incidentId: string }[]; nextPageToken: string };
    expect(page.engagements).toHaveLength(1);
    expect(page.nextPageToken).toBeTruthy();
    const all = await beacon(s, analyst, ['engagements', 'list', '--json', '--page-size', '1', '--all']);
    const every = (JSON.parse(all.stdout) as { engagements: { incidentId: string }[] }).engagements;
    expect(every.map((e) => e.incidentId).sort()).toEqual([first, second].sort());

    // A coordinator names the agency; without one its token names none.
    const cc = await coordinator(s);
    const named = await beacon(s, cc, ['engagements', 'list', '--agency', 'cert-water']);
    expect(named.code).toBe(0);
    expect(named.stdout).toContain(first);
    const unnamed = await beacon(s, cc, ['engagements', 'list']);
    expect(unnamed.code).toBe(2);
    expect(unnamed.stderr).toContain('--agency is needed');

    // Another agency's list is refused, and printed as the gateway's problem.
    const refused = await beacon(s, analyst, ['engagements', 'list', '--agency', 'cert-other']);
    expect(refused).toMatchObject({ code: 1, stdout: '' });
    expect(refused.stderr).toMatch(/^error 403 Permission Denied: an agency lists only its own engagements/);
  });
});
