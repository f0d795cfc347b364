/** One asset of the registry: read it, remove it, or remove one of its dependencies. */
import { jsonText, type Command } from '../context.js';
import { table, tlpName } from '../format.js';
import { fields } from '../format-registry.js';

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
    const a = response.asset;
    const lines = fields([
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
  details: '<kind> is power, water, communications, transport, fuel, it-cloud, finance or supply.',
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
