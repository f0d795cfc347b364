import { describe, expect } from 'vitest';
import { run } from '@beacon/cli';
import { test as base, waitFor } from '@beacon/testkit';
import { agency, call, engage, openIncident, startStack, type Stack } from './harness.js';

const test = base.extend('stack', async ({ infra, names }, { onCleanup }): Promise<Stack> => {
  const stack = await startStack(infra, names);
  onCleanup(() => stack.stop());
  return stack;
});

describe('beacon agencies acknowledge', () => {
  test("an engaged agency's analyst acknowledges through notify once; another agency and a coordinator are refused", async ({
    stack: t,
  }) => {
    const beacon = async (token: string, argv: string[]) => {
      let stdout = '';
      let stderr = '';
      const code = await run(argv, {
        stdout: { write: (s: string) => (stdout += s) },
        stderr: { write: (s: string) => (stderr += s) },
        env: { BEACON_URL: t.http, BEACON_TOKEN: token },
        isTTY: false,
      });
      return { code, stdout, stderr };
    };
    const cc = await t.token(['coordinator']);
    await call(t.notifyClient, 'putAgency', { agency: agency('cert-by', 'AMBER'), expectedVersion: 0 }, cc);
    const incident = await openIncident(t, cc, 'AMBER');
    await engage(t, cc, incident.id, 'cert-by');

    // Acting for an agency is its own people's: to another agency's analyst the agency is not
    // there; a coordinator's role may not (it acknowledges through the response instead).
    const stranger = await t.token(['agency_analyst'], 'lka-by');
    const foreign = await beacon(stranger, ['agencies', 'acknowledge', incident.id, '--agency', 'cert-by']);
    expect(foreign).toMatchObject({ code: 1, stdout: '' });
    expect(foreign.stderr).toMatch(/^error 404 [^:]+: no agency cert-by\n$/);
    const coordinator = await beacon(cc, ['agencies', 'acknowledge', incident.id, '--agency', 'cert-by']);
    expect(coordinator.stderr).toMatch(/^error 403 [^:]+: your role may not do this\n$/);

    // The agency's own analyst, its agency taken from the token, once notify has heard of the
    // engagement from intake's event.
    const analyst = await t.token(['agency_analyst'], 'cert-by');
    const first = await waitFor(
      async () => {
        const result = await beacon(analyst, [
          'agencies',
          'acknowledge',
          incident.id,
          '--note',
          'on it',
          '--json',
        ]);
        if (result.code !== 0) throw new Error(result.stderr);
        return result;
      },
      { what: 'an acknowledgement notify accepts', timeoutMs: 30_000, intervalMs: 100 },
    );
    expect(JSON.parse(first.stdout)).toMatchObject({
      agencyId: 'cert-by',
      incidentId: incident.id,
      first: true,
    });
    const again = await beacon(analyst, ['agencies', 'acknowledge', incident.id]);
    expect(again).toMatchObject({ code: 0, stderr: '' });
    expect(again.stdout).toMatch(
      new RegExp(`^cert-by had acknowledged its engagement on ${incident.id} already, at \\S+\\n$`),
    );
    // An incident it is not engaged on answers as one that does not exist.
    const other = await openIncident(t, cc, 'GREEN');
    const notEngaged = await beacon(analyst, ['agencies', 'acknowledge', other.id]);
    expect(notEngaged.stderr).toMatch(
      new RegExp(`^error 404 [^:]+: no engagement of agency cert-by on ${other.id}`),
    );
  });
});
