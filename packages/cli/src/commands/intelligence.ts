/**
 * What coordinators and agencies read across incidents: trends, an indicator's sightings, an
 * incident as STIX, and the audit chain's verification.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { OBSERVABLE_TYPES } from '@beacon/domain';
import { dirname } from 'node:path';
import { valueOptions } from '../command-kinds.js';
import { jsonText, type Command } from '../context.js';
import { enumFlag, optional, parseTime, readJsonObject } from '../flags.js';
import { table, tlpName } from '../format.js';
import { CliError, UsageError } from '../io.js';
import { ROLES } from '../roles.js';
import { incidentPath } from './incidents.js';

const DIMENSIONS = ['rsit-class', 'sector', 'jurisdiction'] as const;
const GRANULARITIES = ['day', 'week'] as const;
const DAY_MS = 86_400_000;

export const trendsCommand: Command = {
  name: 'trends',
  routes: ['GET /v1/trends'],
  synopsis: '[--by rsit-class|sector|jurisdiction] [--per day|week] [--from TIME] [--to TIME]',
  summary: 'incidents opened per day or week, by RSIT class, sector or jurisdiction (those you may see)',
  roles: ROLES.readers,
  details: `--from and --to bound the range (--to exclusive; at most 366 days); the last 30 days when not
given. --by rsit-class is the default, --per day.`,
  options: {
    ...valueOptions('by', 'per', 'from', 'to'),
  },
  args: [],
  async run(context) {
    const dimension = enumFlag('by', context.string('by') ?? 'rsit-class', 'TREND_DIMENSION_', DIMENSIONS);
    const granularity = enumFlag('per', context.string('per') ?? 'day', 'TREND_GRANULARITY_', GRANULARITIES);
    const to = optional(context, 'to', (text) => parseTime('to', text)) ?? new Date().toISOString();
    const from =
      optional(context, 'from', (text) => parseTime('from', text)) ??
      new Date(Date.parse(to) - 30 * DAY_MS).toISOString();
    const response = await context
      .client()
      .call<{ points?: { periodStart?: string; key?: string; count?: number }[] }>('GET', '/v1/trends', {
        query: { from, to, granularity, dimension },
      });
    const points = response.points ?? [];
    if (context.json) context.io.stdout.write(jsonText({ points }));
    else if (points.length === 0) context.io.stdout.write(`no incidents opened from ${from} to ${to}\n`);
    else
      context.io.stdout.write(
        table(
          ['PERIOD', context.string('by') ?? 'rsit-class', 'INCIDENTS'].map((h) => h.toUpperCase()),
          points.map((p) => [(p.periodStart ?? '').slice(0, 10), p.key ?? '', String(p.count ?? 0)]),
        ),
      );
    return 0;
  },
};

export const lookupCommand: Command = {
  name: 'indicators lookup',
  routes: ['POST /v1/indicators:lookup'],
  synopsis: '<type> <value>',
  summary: 'every sighting of an indicator across the incidents you may see, newest first',
  roles: ROLES.readers,
  details: `<type> is one of ${OBSERVABLE_TYPES.join(', ')};
<value> may be defanged (hxxps://evil[.]example): it is looked up as normalised, e.g.
  beacon indicators lookup domain 'evil[.]example'`,
  options: {},
  args: ['type', 'value'],
  async run(context) {
    const [type, value] = context.args as [string, string];
    const response = await context.client().call<{
      observable?: { type?: string; value?: string };
      sightings?: { incidentId?: string; reportId?: string; seenAt?: string; tlp?: string }[];
    }>('POST', '/v1/indicators:lookup', { body: { observable: { type, value } } });
    const sightings = response.sightings ?? [];
    if (context.json) {
      context.io.stdout.write(jsonText(response));
      return 0;
    }
    const head = `${response.observable?.type ?? type} ${response.observable?.value ?? value}: `;
    context.io.stdout.write(
      sightings.length === 0
        ? `${head}not seen in any incident you may see\n`
        : `${head}${sightings.length} sighting${sightings.length === 1 ? '' : 's'}\n` +
            table(
              ['SEEN AT', 'INCIDENT', 'REPORT', 'TLP'],
              sightings.map((s) => [s.seenAt ?? '', s.incidentId ?? '', s.reportId ?? '-', tlpName(s.tlp)]),
            ),
    );
    return 0;
  },
};

export const stixCommand: Command = {
  name: 'incidents stix',
  routes: ['GET /v1/incidents/{incident_id}:exportStix'],
  synopsis: '<id> [--out bundle.json]',
  summary: 'the incident as a STIX 2.1 bundle with TLP 2.0 markings, as you may see it',
  roles: ROLES.readers,
  options: { out: { type: 'string' } },
  args: ['id'],
  async run(context) {
    const response = await context
      .client()
      .call<{ bundleJson?: string }>('GET', `${incidentPath(context.args[0]!)}:exportStix`);
    const bundle = jsonText(JSON.parse(response.bundleJson ?? '{}'));
    const out = context.string('out');
    if (!out) {
      context.io.stdout.write(bundle);
      return 0;
    }
    try {
      await mkdir(dirname(context.path(out)), { recursive: true });
      await writeFile(context.path(out), bundle);
    } catch (error) {
      throw new CliError(`cannot write ${out}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
    }
    context.io.stderr.write(`STIX bundle written to ${out}\n`);
    return 0;
  },
};

interface VerifyResponse {
  readonly ok?: boolean;
  readonly records?: number;
  readonly brokenAt?: number;
  readonly problem?: string;
  readonly headHash?: string;
  readonly chains?: number;
  readonly brokenChain?: string;
  readonly ends?: readonly unknown[];
}

export const auditVerifyCommand: Command = {
  name: 'audit verify',
  routes: ['POST /v1/audit:verify', 'POST /v1/victim-audit:verify'],
  synopsis: '[--victims] [--checkpoint ends.json]',
  summary:
    "walk the hash-chained audit log and report the first altered or missing record (intake's, or --victims')",
  roles: 'auditor, coordinator',
  details: `--checkpoint reads the chain ends of an earlier verification, the JSON \`beacon audit verify
--json\` prints (its "ends"), e.g.
  {"ends": [{"recordId": "1767225600000.intake-1.42", "hash": "9f2c…"}]}
and checks each is still in the log with the same hash: keep one from each run to pass to the
next. Exit code 1 when the chain is broken.`,
  options: { victims: { type: 'boolean' }, checkpoint: { type: 'string' } },
  args: [],
  async run(context) {
    const file = context.string('checkpoint');
    let checkpoint: unknown[] = [];
    if (file) {
      const ends = (await readJsonObject(context, file, 'the output of beacon audit verify --json'))['ends'];
      if (!Array.isArray(ends)) throw new UsageError(`${file} has no "ends" list`);
      checkpoint = ends;
    }
    const path = context.flag('victims') ? '/v1/victim-audit:verify' : '/v1/audit:verify';
    const result = await context.client().call<VerifyResponse>('POST', path, { body: { checkpoint } });
    if (context.json) context.io.stdout.write(jsonText(result));
    else if (result.ok)
      context.io.stdout.write(
        `audit chain intact: ${result.records ?? 0} records in ${result.chains ?? 0} chains; head ${result.headHash ?? ''}\n`,
      );
    else
      context.io.stdout.write(
        `audit chain BROKEN in ${result.brokenChain || '?'} at record ${result.brokenAt ?? 0}: ${result.problem ?? ''}\n`,
      );
    return result.ok ? 0 : 1;
  },
};
