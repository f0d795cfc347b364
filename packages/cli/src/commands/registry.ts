import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { getCommand } from '../command-kinds.js';
import { integerFlag, jsonText, type Command } from '../context.js';
import type { GatewayClient } from '../http.js';
import { UsageError } from '../io.js';
import {
  countLines,
  fileLines,
  importFile,
  RowBatches,
  writeImportOutcome,
  type ImportFailure,
  type RowErrors,
} from '../file-import.js';
import type { Progress } from '../progress.js';
import { parseRegistryLines, type RegistryRow } from '../registry-file.js';
import { ROLES } from '../roles.js';

export type { ImportFailure };

export interface ImportOutcome {
  readonly rows: number;
  readonly assets: number;
  readonly dependencies: number;
  readonly failures: readonly ImportFailure[];
}

interface ImportResponse extends RowErrors {
  readonly assetsWritten?: number;
  readonly dependenciesWritten?: number;
}

/** Rows per call: the service takes at most 1,000. */
export const IMPORT_BATCH = 500;

/**
 * Streams a registry file to the gateway in batches. Lines the CLI cannot parse are reported
 * without being sent; the service reports the rows it refuses by their place in the batch,
 * mapped back to file lines here.
 */
export async function importRegistry(
  client: GatewayClient,
  lines: AsyncIterable<string>,
  options: { readonly csv: boolean; readonly progress?: Progress; readonly batch?: number },
): Promise<ImportOutcome> {
  let rows = 0;
  let assets = 0;
  let dependencies = 0;
  const batches = new RowBatches<RegistryRow, ImportResponse>(
    options.batch ?? IMPORT_BATCH,
    (sent) => client.call('POST', '/v1/registry:import', { body: { rows: sent, firstRow: 1 } }),
    (response) => {
      assets += response.assetsWritten ?? 0;
      dependencies += response.dependenciesWritten ?? 0;
    },
    options.progress,
  );
  for await (const parsed of parseRegistryLines(lines, options.csv)) {
    rows++;
    if ('row' in parsed) await batches.add(parsed.line, parsed.row);
    else batches.refuse({ line: parsed.line, field: parsed.field, description: parsed.error });
  }
  await batches.flush();
  return { rows, assets, dependencies, failures: batches.sortedFailures() };
}

/** The rows of a registry file: its non-blank lines, but for a CSV file's header. */
async function countRows(path: string, csv: boolean): Promise<number> {
  const count = await countLines(path);
  return csv ? Math.max(0, count - 1) : count;
}

export const importCommand: Command = {
  name: 'assets import',
  routes: ['POST /v1/registry:import'],
  synopsis: '--file registry.jsonl|assets.csv|dependencies.csv',
  summary: 'import assets and dependencies in batches; bad rows are listed by line and field',
  roles: "coordinator (any operator's assets); agency_admin (its own operator's assets)",
  details: `A .csv file is CSV with a header line, one of
  id,name,operator_id,sector,jurisdiction,lat,lon,population_served,criticality,services,tlp
  substation-3,Substation 3,op-grid,energy,DE-BY,48.1,11.5,100000,5,electricity;heating,green
or
  dependent_id,provider_id,kind,time_to_impact_hours,degradation,backup_hours
  hospital-1,substation-3,power,0,1,72
(services are ;-separated; tlp is clear, green, amber, amber+strict or red). Any other
file is JSON Lines in the proto3 JSON mapping, what \`beacon assets export\` writes, e.g.
  {"asset": {"id": "substation-3", "name": "Substation 3", "operatorId": "op-grid", "sector": "energy", "jurisdiction": "DE-BY", "populationServed": 100000, "criticality": 5, "tlp": "TLP_GREEN"}}
  {"dependency": {"dependentId": "hospital-1", "providerId": "substation-3", "kind": "power", "timeToImpactHours": 0, "degradation": 1, "backupHours": 72}}`,
  options: { file: { type: 'string' } },
  args: [],
  async run(context) {
    const csv = context.string('file')?.toLowerCase().endsWith('.csv') === true;
    const { file, outcome } = await importFile(
      context,
      'rows',
      (path) => countRows(path, csv),
      (client, path, progress) =>
        importRegistry(client, fileLines(path), { csv, ...(progress ? { progress } : {}) }),
    );
    return writeImportOutcome(
      context,
      file,
      outcome,
      (refused) =>
        `${outcome.rows} rows: ${outcome.assets} assets and ${outcome.dependencies} dependencies written, ` +
        `${refused} rows refused`,
    );
  },
};

interface ExportResponse {
  readonly rows?: readonly RegistryRow[];
  readonly nextPageToken?: string;
}

export const exportCommand: Command = {
  name: 'assets export',
  routes: ['GET /v1/registry:export'],
  synopsis: '[--out registry.jsonl]',
  summary: 'write the registry you may see as JSON Lines (the import format)',
  roles: "coordinator (every asset); agency_analyst, agency_admin (their own operator's assets)",
  options: { out: { type: 'string' } },
  args: [],
  async run(context) {
    const client = context.client();
    const out = context.string('out');
    const sink = out ? createWriteStream(context.path(out)) : undefined;
    const write = async (text: string) => {
      if (!sink) return void context.io.stdout.write(text);
      if (!sink.write(text)) await once(sink, 'drain');
    };
    let count = 0;
    let pageToken = '';
    try {
      do {
        const page = await client.call<ExportResponse>('GET', '/v1/registry:export', {
          query: { pageSize: 1000, pageToken },
        });
        for (const row of page.rows ?? []) {
          await write(`${JSON.stringify(row)}\n`);
          count++;
        }
        pageToken = page.nextPageToken ?? '';
      } while (pageToken);
    } finally {
      if (sink) await new Promise((resolve) => sink.end(resolve));
    }
    if (out) context.io.stderr.write(`${count} rows written to ${out}\n`);
    return 0;
  },
};

interface AssessmentJson {
  readonly id?: string;
  readonly impactedAssets?: number;
  readonly populationAffected?: string;
  readonly crossSectorDependency?: string;
  readonly potentialImpact?: string;
  readonly unknownAssetIds?: readonly string[];
  readonly withheldAssets?: number;
  readonly bySector?: readonly { key?: string; assets?: number; population?: string }[];
  readonly topImpacts?: readonly {
    assetId?: string;
    firstImpactHours?: number;
    maxLoss?: number;
    population?: string;
    criticalPath?: readonly { assetId?: string }[];
  }[];
}

interface AssessResponse {
  readonly assessment?: AssessmentJson;
}

/** An assessment as a person reads it: what loses service, NCISS, sectors and first impacts. */
function assessmentText(a: AssessmentJson): string {
  const lines = [
    `assessment ${a.id ?? ''}: ${a.impactedAssets ?? 0} assets lose service, ${a.populationAffected ?? '0'} people`,
    `NCISS: cross-sector dependency ${a.crossSectorDependency ?? 'none'}, potential impact ${a.potentialImpact ?? 'none'}`,
    ...(a.unknownAssetIds?.length ? [`unknown assets: ${a.unknownAssetIds.join(', ')}`] : []),
    // Every figure above covers the assets shown only.
    ...(a.withheldAssets
      ? [`${a.withheldAssets} asset${a.withheldAssets === 1 ? '' : 's'} above your clearance not shown`]
      : []),
    'by sector:',
    ...(a.bySector ?? []).map(
      (t) =>
        `  ${(t.key ?? '').padEnd(32)} ${String(t.assets ?? 0).padStart(7)} assets ${String(t.population ?? 0).padStart(10)} people`,
    ),
    'first impacts (hours, loss, chain):',
    ...(a.topImpacts ?? [])
      .slice(0, 15)
      .map(
        (i) =>
          `  ${(i.assetId ?? '').padEnd(24)} ${String(i.firstImpactHours ?? 0).padStart(6)} h ${Math.round((i.maxLoss ?? 0) * 100)}%  ${(i.criticalPath ?? []).map((h) => h.assetId).join(' → ')}`,
      ),
  ];
  return `${lines.join('\n')}\n`;
}

export const assessCommand: Command = {
  name: 'impact assess',
  routes: ['POST /v1/assessments'],
  synopsis: '[--incident inc_…] [--asset ID[:LOSS] …] [--horizon HOURS]',
  summary: 'assess the cascade of an incident or of assets you name (coordinators)',
  roles: ROLES.coordinators,
  options: {
    incident: { type: 'string' },
    asset: { type: 'string', multiple: true },
    horizon: { type: 'string' },
  },
  args: [],
  async run(context) {
    const incidentId = context.string('incident') ?? '';
    const assets = context.strings('asset').map((text) => {
      const [assetId = '', lossText] = text.split(':');
      const loss = lossText === undefined ? 1 : Number(lossText);
      if (!(loss > 0 && loss <= 1)) throw new UsageError(`--asset ${text}: the loss must be in (0, 1]`);
      return { assetId, loss };
    });
    if (!incidentId && assets.length === 0) throw new UsageError('name --incident or at least one --asset');
    const horizonHours = integerFlag('horizon', context.string('horizon') ?? '168', 1, 2160);
    const client = context.client();
    const response = await client.call<AssessResponse>('POST', '/v1/assessments', {
      body: { incidentId, affectedAssets: assets, horizonHours },
    });
    const a = response.assessment ?? {};
    context.io.stdout.write(context.json ? jsonText(a) : assessmentText(a));
    return 0;
  },
};

export const assessmentGetCommand = getCommand({
  name: 'impact get',
  routes: ['GET /v1/assessments/{assessment_id}'],
  synopsis: '<assessment-id>',
  summary: 'an assessment made before, by its id (`impact assess` prints it), as you may read it',
  roles: ROLES.coordinators + ' (assets above your clearance are left out, and counted)',
  args: ['assessment-id'],
  request: (context) => ({ path: `/v1/assessments/${encodeURIComponent(context.args[0]!)}` }),
  json: (response: AssessResponse) => response.assessment ?? {},
  text: (response) => assessmentText(response.assessment ?? {}),
});
