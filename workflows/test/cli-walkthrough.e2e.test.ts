/**
 * The README's walkthrough ("A coordinator's incident, end to end, with the CLI only") run as
 * written, command by command, against the whole stack: if a command, a flag or an output it
 * relies on changes, this fails, so the README cannot rot.
 */
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect } from 'vitest';
import { test } from '@beacon/testkit';
import { startCliStack } from './support/cli.js';
import { commandsOf, shellBlocks, Walkthrough } from './support/walkthrough.js';

const README = fileURLToPath(new URL('../../README.md', import.meta.url));
const HEADING = "A coordinator's incident, end to end, with the CLI only";

interface StatusJson {
  phase: string;
  engagements: { agencyId: string; state: string; via?: string; contactRank?: number }[];
  obligations: { id: string; state: string; reference?: string }[];
}

describe('the README walkthrough', () => {
  test('runs as written: agencies, subscriptions, credentials, an incident, its response and its resolution', async ({
    infra,
  }) => {
    const blocks = shellBlocks(await readFile(README, 'utf8'), HEADING);
    const commands = blocks.flatMap(commandsOf);
    expect(commands.length).toBeGreaterThan(15);
    const cli = await startCliStack(infra);
    try {
      const walkthrough = new Walkthrough({
        beacon: (argv, env) => cli.beacon(argv, { env }),
        dir: cli.dir,
        // The test's stack, not the one `make up` leaves on the well-known ports.
        fixed: { BEACON_URL: cli.stack.http },
      });
      for (const command of commands) {
        const step = await walkthrough.run(command);
        if (step.result) {
          expect({ command: step.command, ...step.result, stdout: '…' }).toEqual({
            command: step.command,
            code: 0,
            stdout: '…',
            stderr: '',
          });
        }
      }
      const output = (words: string) =>
        walkthrough.runs
          .filter((r) => r.argv!.join(' ').startsWith(words))
          .map((r) => r.result!.stdout)
          .join('\n');

      // What each step is there to show, shown.
      expect(output('agencies list')).toMatch(/\ncsirt-limburg\s+csirt\s+RED\s+NL-LI\s/);
      expect(output('agencies list')).toMatch(/\npolitie-limburg\s+law-enforcement\s+AMBER\s+NL-LI\s/);
      expect(output('agencies subscriptions')).toMatch(
        /\nhealthcare-nl\s+\*\s+\*\s+healthcare-and-public-health\s+NL\s+1\s+named-and-reached\s/,
      );
      expect((await stat(join(cli.dir, 'csirt-limburg.creds'))).mode & 0o777).toBe(0o600);
      const inc = walkthrough.vars['INC']!;
      expect(inc).toMatch(/^inc_/);
      expect(output('incidents show')).toMatch(/\ntitle: +Ransomware at a hospital in Limburg\n/);
      const notified = output('responses wait');
      expect(notified).toMatch(/\n {2}csirt-limburg\s+notified\s+0 duty-officer\s/);
      expect(notified).toMatch(/\n {2}NIS2 +EU member state\(s\) NL/);
      expect(notified).toContain('may not be resolved yet:\n  NIS2 early warning (24 h) is not filed');
      expect(notified).toMatch(/\n {2}politie-limburg\s+acknowledged\s+0 duty-officer\s.*\srest\n/);
      expect(output('engagements list')).toContain(inc);
      expect(output('responses timeline')).toMatch(
        /\n\d+\s+\S+\s+escalated\s+csirt-limburg\s+escalation requested/,
      );
      expect(output('responses resolve')).toMatch(new RegExp(`^${inc} resolved\\n`));

      // And the response is where the walkthrough says it left it.
      const cc = walkthrough.vars['BEACON_TOKEN']!;
      await expect
        .poll(
          async () => {
            const got = await cli.beacon(['responses', 'get', inc, '--json'], { token: cc });
            const status = (JSON.parse(got.stdout) as { status: StatusJson }).status;
            return {
              phase: status.phase,
              engagements: status.engagements.map((e) => [
                e.agencyId,
                e.state,
                e.via ?? '',
                e.contactRank ?? 0,
              ]),
              filed: status.obligations
                .filter((o) => o.state === 'OBLIGATION_STATE_FILED')
                .map((o) => o.reference),
            };
          },
          { timeout: 30_000, interval: 250 },
        )
        .toEqual({
          phase: 'RESPONSE_PHASE_RESOLVED',
          engagements: [
            // Resolving ended the engagement still waiting for an answer, at the deputy.
            ['csirt-limburg', 'ENGAGEMENT_STATE_REMOVED', '', 1],
            ['politie-limburg', 'ENGAGEMENT_STATE_ACKNOWLEDGED', 'rest', 0],
          ],
          filed: ['NCSC-2026-0142', 'NCSC-2026-0142-N'],
        });
    } finally {
      await cli.stop();
    }
  });
});
