/**
 * The registry one asset or dependency at a time: list, read, put and remove them (a whole file
 * goes through `assets import`).
 */
import { listOptions, pagedListCommand, valueOptions, VERSIONED_PUT_OPTIONS } from '../command-kinds.js';
import { integerFlag, jsonText, type Command, type Context } from '../context.js';
import { copyFlags, listFlag, optional, parseTlpFlag } from '../flags.js';
import { table, tableOf, tlpName } from '../format.js';
import { fields } from '../format-registry.js';
import { UsageError } from '../io.js';
import { runVersionedPut } from '../versioned-put.js';

const OWN_ASSETS_READERS =
  "coordinator (every asset); agency_analyst, agency_admin (their own operator's assets)";
const OWN_ASSETS_MANAGERS = "coordinator (any operator's); agency_admin (its own operator's assets)";

interface AssetJson {
  readonly id: string;
  readonly name?: string;
  readonly operatorId?: string;
  readonly sector?: string;
  readonly jurisdiction?: string;
  readonly location?: { readonly lat?: number; readonly lon?: number };
  readonly populationServed?: number;
  readonly criticality?: number;
  readonly services?: readonly string[];
  readonly tlp?: string;
  readonly version?: number;
  readonly updatedAt?: string;
}

interface DependencyJson {
  readonly dependentId?: string;
  readonly providerId?: string;
  readonly kind?: string;
  readonly timeToImpactHours?: number;
  readonly degradation?: number;
  readonly backupHours?: number;
}

const assetPath = (id: string) => `/v1/assets/${encodeURIComponent(id)}`;
const DEPENDENCY_KINDS = 'power, water, communications, transport, fuel, it-cloud, finance or supply';

function assetDetails(a: AssetJson): string[] {
  return fields([
    ['id', a.id],
    ['name', a.name ?? ''],
    ['operator', a.operatorId ?? ''],
    ['sector', a.sector ?? ''],
    ['jurisdiction', a.jurisdiction ?? ''],
    ['location', a.location ? `${a.location.lat ?? 0}, ${a.location.lon ?? 0}` : '(none)'],
    ['population served', String(a.populationServed ?? 0)],
    ['criticality', String(a.criticality ?? 0)],
    ['services', a.services?.length ? a.services.join(', ') : '(none)'],
    ['tlp', tlpName(a.tlp)],
    ['version', String(a.version ?? 0)],
  ]);
}

export const assetsListCommand = pagedListCommand({
  name: 'assets list',
  routes: ['GET /v1/assets'],
  synopsis: '[--operator ID] [--sector SECTOR] [--page-size N] [--page-token TOKEN] [--all]',
  summary: 'the assets you may see, by id, a page at a time (--all follows every page)',
  roles: OWN_ASSETS_READERS,
  options: { operator: { type: 'string' }, sector: { type: 'string' } },
  key: 'assets',
  maxPageSize: 500,
  request: (context) => ({
    path: '/v1/assets',
    query: { operatorId: context.string('operator'), sector: context.string('sector') },
  }),
  text: (assets: readonly AssetJson[]) =>
    tableOf(assets, 'no assets you may see\n', [
      ['ID', (a) => a.id],
      ['NAME', (a) => a.name ?? ''],
      ['OPERATOR', (a) => a.operatorId ?? ''],
      ['SECTOR', (a) => a.sector ?? ''],
      ['JURISDICTION', (a) => a.jurisdiction ?? ''],
      ['POPULATION', (a) => String(a.populationServed ?? 0)],
      ['CRIT', (a) => String(a.criticality ?? 0)],
      ['TLP', (a) => tlpName(a.tlp)],
    ]),
});

export const assetsGetCommand: Command = {
  name: 'assets get',
  routes: ['GET /v1/assets/{asset_id}'],
  synopsis: '<asset-id>',
  summary: 'one asset and what it depends on (among the providers you may see)',
  roles: OWN_ASSETS_READERS,
  options: {},
  args: ['asset-id'],
  async run(context) {
    const response = await context.client().call<{
      asset: AssetJson;
      dependencies?: DependencyJson[];
      withheldDependencies?: number;
    }>('GET', assetPath(context.args[0]!));
    if (context.json) {
      context.io.stdout.write(jsonText(response));
      return 0;
    }
    const lines = assetDetails(response.asset);
    const dependencies = response.dependencies ?? [];
    lines.push(`depends on:${dependencies.length === 0 ? ' (nothing you may see)' : ''}`);
    if (dependencies.length > 0) {
      lines.push(
        table(
          ['PROVIDER', 'KIND', 'TIME TO IMPACT', 'DEGRADATION', 'BACKUP'],
          dependencies.map((d) => [
            d.providerId ?? '',
            d.kind ?? '',
            `${d.timeToImpactHours ?? 0} h`,
            String(d.degradation ?? 0),
            `${d.backupHours ?? 0} h`,
          ]),
        )
          .trimEnd()
          .replace(/^/gm, '  '),
      );
    }
    if (response.withheldDependencies) {
      lines.push(`  and ${response.withheldDependencies} on providers you may not see`);
    }
    context.io.stdout.write(`${lines.join('\n')}\n`);
    return 0;
  },
};

export const assetsDeleteCommand: Command = {
  name: 'assets delete',
  routes: ['POST /v1/assets/{asset_id}:delete'],
  synopsis: '<asset-id>',
  summary: 'remove an asset and every dependency naming it',
  roles: OWN_ASSETS_MANAGERS,
  options: {},
  args: ['asset-id'],
  async run(context) {
    const id = context.args[0]!;
    const response = await context
      .client()
      .call<{ dependenciesRemoved?: number }>('POST', `${assetPath(id)}:delete`, { body: {} });
    context.io.stdout.write(
      context.json
        ? jsonText(response)
        : `${id} removed, with ${response.dependenciesRemoved ?? 0} dependencies naming it\n`,
    );
    return 0;
  },
};

export const dependenciesDeleteCommand: Command = {
  name: 'dependencies delete',
  routes: ['POST /v1/dependencies:delete'],
  synopsis: '<dependent-id> <provider-id> <kind>',
  summary: 'remove one dependency of an asset on a provider',
  roles: OWN_ASSETS_MANAGERS + ', by the dependent asset',
  details: `<kind> is ${DEPENDENCY_KINDS}.`,
  options: {},
  args: ['dependent-id', 'provider-id', 'kind'],
  async run(context) {
    const [dependentId, providerId, kind] = context.args as [string, string, string];
    await context
      .client()
      .call('POST', '/v1/dependencies:delete', { body: { dependentId, providerId, kind } });
    context.io.stdout.write(
      context.json
        ? jsonText({ dependentId, providerId, kind, deleted: true })
        : `${dependentId} no longer depends on ${providerId} for ${kind}\n`,
    );
    return 0;
  },
};

/** A flag's value as a number within bounds (above `min` when `minOpen`), or a UsageError. */
function numberFlag(name: string, text: string, min: number, max = Infinity, minOpen = false): number {
  const value = Number(text);
  if (
    text.trim() === '' ||
    !Number.isFinite(value) ||
    value > max ||
    (minOpen ? value <= min : value < min)
  ) {
    const range = `${minOpen ? 'above' : 'from'} ${min}${max === Infinity ? '' : ` to ${max}`}`;
    throw new UsageError(`--${name} must be a number ${range}, not "${text}"`);
  }
  return value;
}

/** The asset fields the flags give; a field not given is left out. */
function assetFlags(context: Context): Record<string, unknown> {
  const asset: Record<string, unknown> = {};
  copyFlags(context, asset, [
    ['id', 'id'],
    ['name', 'name'],
    ['operator', 'operatorId'],
    ['sector', 'sector'],
    ['jurisdiction', 'jurisdiction'],
  ]);
  const population = optional(context, 'population', (t) => integerFlag('population', t, 0, 4_294_967_295));
  if (population !== undefined) asset['populationServed'] = population;
  const criticality = optional(context, 'criticality', (t) => integerFlag('criticality', t, 1, 5));
  if (criticality !== undefined) asset['criticality'] = criticality;
  if (context.strings('services').length > 0) asset['services'] = listFlag(context, 'services');
  const tlp = optional(context, 'tlp', (t) => parseTlpFlag('tlp', t));
  if (tlp !== undefined) asset['tlp'] = tlp;
  const lat = optional(context, 'lat', (t) => numberFlag('lat', t, -90, 90));
  const lon = optional(context, 'lon', (t) => numberFlag('lon', t, -180, 180));
  if ((lat === undefined) !== (lon === undefined)) throw new UsageError('give --lat and --lon together');
  if (lat !== undefined) asset['location'] = { lat, lon };
  return asset;
}

export const assetsPutCommand: Command = {
  name: 'assets put',
  routes: ['POST /v1/assets', 'GET /v1/assets/{asset_id}'],
  synopsis:
    '[--file asset.json] [--id ID] [--name NAME] [--operator ID] [--sector SECTOR] [--jurisdiction CODE] ' +
    '[--population N] [--criticality 1-5] [--services LIST] [--tlp TLP] [--lat N --lon N] [--version N | --update]',
  summary: 'create one asset, or replace it at its version (--update: change only what you give)',
  roles: OWN_ASSETS_MANAGERS,
  details: `Flags build the asset; with --file they replace what the file says. The file holds one JSON
object, an Asset in the proto3 JSON mapping or a whole request, e.g.
  {"asset": {"id": "substation-3", "name": "Substation 3", "operatorId": "op-grid", "sector": "energy",
   "jurisdiction": "DE-BY", "location": {"lat": 48.1, "lon": 11.5}, "populationServed": 100000,
   "criticality": 5, "services": ["electricity"], "tlp": "TLP_GREEN"}, "expectedVersion": 0}
--sector       a CISA sector id, e.g. energy, water-and-wastewater, healthcare-and-public-health
--criticality  1 (local) to 5 (national)
--services     what it provides, comma-separated
--tlp          clear, green, amber, amber+strict or red
--version N replaces version N (0 creates); --update reads it first and changes only the
fields you give. An operator's admin puts its own operator's assets only.`,
  options: {
    ...valueOptions(
      'file',
      'id',
      'name',
      'operator',
      'sector',
      'jurisdiction',
      'population',
      'criticality',
      'tlp',
      'lat',
      'lon',
    ),
    ...listOptions('services'),
    ...VERSIONED_PUT_OPTIONS,
  },
  args: [],
  async run(context) {
    return runVersionedPut(context, {
      key: 'asset',
      fileHolds: 'an Asset, or {"asset": …, "expectedVersion": N}',
      noun: 'asset',
      flags: () => assetFlags(context),
      stored: async (client, id) => {
        const { asset } = await client.call<{ asset: AssetJson }>('GET', assetPath(id));
        const { version, updatedAt: _updated, ...fields } = asset;
        return { version, fields };
      },
      route: '/v1/assets',
      createdVerb: 'created',
      details: (a: AssetJson) => `${assetDetails(a).join('\n')}\n`,
    });
  },
};

export const dependenciesPutCommand: Command = {
  name: 'dependencies put',
  routes: ['POST /v1/dependencies'],
  synopsis:
    '<dependent-id> <provider-id> <kind> [--time-to-impact HOURS] [--degradation 0-1] [--backup HOURS]',
  summary: 'create or replace the dependency of one asset on a provider for one kind',
  roles: "coordinator (between any operators' assets); agency_admin (between its own operator's assets)",
  details: `<kind> is ${DEPENDENCY_KINDS}.
--time-to-impact  hours from the provider's loss until the dependent feels it (default 0)
--degradation     how much of its service the dependent loses, above 0 to 1 (default 1)
--backup          hours a backup (generators, a tank) carries it first (default 0: none)
Both assets must be ones you may see.`,
  options: {
    'time-to-impact': { type: 'string' },
    degradation: { type: 'string' },
    backup: { type: 'string' },
  },
  args: ['dependent-id', 'provider-id', 'kind'],
  async run(context) {
    const [dependentId, providerId, kind] = context.args as [string, string, string];
    const dependency = {
      dependentId,
      providerId,
      kind,
      timeToImpactHours: numberFlag('time-to-impact', context.string('time-to-impact') ?? '0', 0),
      degradation: numberFlag('degradation', context.string('degradation') ?? '1', 0, 1, true),
      backupHours: numberFlag('backup', context.string('backup') ?? '0', 0),
    };
    const response = await context
      .client()
      .call<{ dependency: DependencyJson }>('POST', '/v1/dependencies', { body: { dependency } });
    const d = response.dependency;
    context.io.stdout.write(
      context.json
        ? jsonText(response)
        : `${d.dependentId} depends on ${d.providerId} for ${d.kind}: impact after ${d.timeToImpactHours ?? 0} h, ` +
            `loses ${Math.round((d.degradation ?? 0) * 100)}%, backup ${d.backupHours ?? 0} h\n`,
    );
    return 0;
  },
};
