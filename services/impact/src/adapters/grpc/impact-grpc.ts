import {
  authenticatedUnary,
  invalidArgument,
  type Authenticator,
  type FieldViolation,
  type GrpcServiceBinding,
  type Logger,
} from '@beacon/platform';
import { impactV1 } from '@beacon/proto';
import {
  ASSET_ID,
  assetProblems,
  DEPENDENCY_KINDS,
  dependencyProblems,
  isDependencyKind,
} from '../../domain/model.js';
import {
  MAX_HORIZON_HOURS,
  MAX_IMPORT_ROWS,
  type ImpactService,
  type ImportRow,
} from '../../app/impact-service.js';
import {
  assessmentToProto,
  assetFromProto,
  assetToProto,
  dependencyFromProto,
  dependencyToProto,
  rowToProto,
} from '../proto-mapping.js';

export interface ImpactGrpcDeps {
  readonly service: ImpactService;
  readonly authenticator: Authenticator;
  readonly logger: Logger;
}

const MAX_PAGE = 500;
const MAX_EXPORT_PAGE = 5_000;
const MAX_AFFECTED = 100;

/** Domain field names to the proto field paths clients send. */
const snake = (field: string) => field.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

/** `beacon.impact.v1.ImpactService` over gRPC: authenticate, validate, call, map back. */
export function impactGrpc(deps: ImpactGrpcDeps): GrpcServiceBinding {
  const { service } = deps;
  const handle = authenticatedUnary({ authenticator: deps.authenticator, logger: deps.logger });

  const implementation: impactV1.ImpactServiceServer = {
    putAsset: handle<impactV1.PutAssetRequest, impactV1.PutAssetResponse>(async (req, caller) => {
      const asset = assetFromProto(req.asset);
      const violations = assetProblems(asset).map((p) => violation(`asset.${snake(p.field)}`, p.message));
      if (req.expectedVersion < 0) violations.push(violation('expected_version', 'must not be negative'));
      if (violations.length > 0) throw invalidArgument(violations);
      return { asset: assetToProto(await service.putAsset(caller, asset, req.expectedVersion)) };
    }),

    getAsset: handle<impactV1.GetAssetRequest, impactV1.GetAssetResponse>(async (req, caller) => {
      requireAssetId('asset_id', req.assetId);
      const { asset, dependencies, withheldDependencies } = await service.getAsset(caller, req.assetId);
      return {
        asset: assetToProto(asset),
        dependencies: dependencies.map(dependencyToProto),
        withheldDependencies,
      };
    }),

    listAssets: handle<impactV1.ListAssetsRequest, impactV1.ListAssetsResponse>(async (req, caller) => {
      const violations = [
        ...pageViolations(req.pageSize, MAX_PAGE),
        ...(req.pageToken && !ASSET_ID.test(req.pageToken)
          ? [violation('page_token', 'is not a valid page token')]
          : []),
      ];
      if (violations.length > 0) throw invalidArgument(violations);
      const page = await service.listAssets(
        caller,
        {
          ...(req.operatorId ? { operatorId: req.operatorId } : {}),
          ...(req.sector ? { sector: req.sector } : {}),
        },
        req.pageToken || undefined,
        req.pageSize || 100,
      );
      return { assets: page.items.map(assetToProto), nextPageToken: page.next ?? '' };
    }),

    deleteAsset: handle<impactV1.DeleteAssetRequest, impactV1.DeleteAssetResponse>(async (req, caller) => {
      requireAssetId('asset_id', req.assetId);
      return { dependenciesRemoved: await service.deleteAsset(caller, req.assetId) };
    }),

    putDependency: handle<impactV1.PutDependencyRequest, impactV1.PutDependencyResponse>(
      async (req, caller) => {
        const dependency = dependencyFromProto(req.dependency);
        const violations = dependencyViolations(dependency, 'dependency');
        if (violations.length > 0) throw invalidArgument(violations);
        return { dependency: dependencyToProto(await service.putDependency(caller, dependency)) };
      },
    ),

    deleteDependency: handle<impactV1.DeleteDependencyRequest, impactV1.DeleteDependencyResponse>(
      async (req, caller) => {
        const violations = [
          ...(ASSET_ID.test(req.dependentId) ? [] : [violation('dependent_id', 'is not an asset id')]),
          ...(ASSET_ID.test(req.providerId) ? [] : [violation('provider_id', 'is not an asset id')]),
          ...(isDependencyKind(req.kind)
            ? []
            : [violation('kind', `must be one of ${DEPENDENCY_KINDS.join(', ')}`)]),
        ];
        if (violations.length > 0 || !isDependencyKind(req.kind)) throw invalidArgument(violations);
        await service.deleteDependency(caller, {
          dependentId: req.dependentId,
          providerId: req.providerId,
          kind: req.kind,
        });
        return {};
      },
    ),

    importRegistry: handle<impactV1.ImportRegistryRequest, impactV1.ImportRegistryResponse>(
      async (req, caller) => {
        if (req.rows.length > MAX_IMPORT_ROWS) {
          throw invalidArgument([violation('rows', `at most ${MAX_IMPORT_ROWS} rows per batch`)]);
        }
        const first = req.firstRow || 1;
        const rows: ImportRow[] = [];
        const shapeErrors: impactV1.RowError[] = [];
        req.rows.forEach((row, i) => {
          if (row.row?.$case === 'asset') rows.push({ asset: assetFromProto(row.row.value) });
          else if (row.row?.$case === 'dependency')
            rows.push({ dependency: dependencyFromProto(row.row.value) });
          else {
            shapeErrors.push({
              row: first + i,
              field: 'row',
              description: 'is neither an asset nor a dependency',
            });
            // Keeps row numbers aligned: an asset with every field missing fails validation by itself.
            rows.push({ dependency: dependencyFromProto(undefined) });
          }
        });
        const result = await service.importRows(caller, rows, first);
        const shaped = new Set(shapeErrors.map((e) => e.row));
        return {
          assetsWritten: result.assets,
          dependenciesWritten: result.dependencies,
          errors: [
            ...shapeErrors,
            ...result.errors
              .filter((e) => !shaped.has(e.row))
              .map((e) => ({ row: e.row, field: fieldPath(e.field), description: e.message })),
          ].sort((a, b) => a.row - b.row),
        };
      },
    ),

    exportRegistry: handle<impactV1.ExportRegistryRequest, impactV1.ExportRegistryResponse>(
      async (req, caller) => {
        const violations = [
          ...pageViolations(req.pageSize, MAX_EXPORT_PAGE),
          ...(req.pageToken && !/^[ad]:[A-Za-z0-9._:|-]{0,400}$/.test(req.pageToken)
            ? [violation('page_token', 'is not a valid page token')]
            : []),
        ];
        if (violations.length > 0) throw invalidArgument(violations);
        const page = await service.exportPage(caller, req.pageToken || undefined, req.pageSize || 1_000);
        return { rows: page.rows.map(rowToProto), nextPageToken: page.next ?? '' };
      },
    ),

    assessImpact: handle<impactV1.AssessImpactRequest, impactV1.AssessImpactResponse>(async (req, caller) => {
      const violations: FieldViolation[] = [];
      if (req.incidentId && !/^inc_[a-z0-9]{1,64}$/.test(req.incidentId)) {
        violations.push(violation('incident_id', 'is not an incident id'));
      }
      if (req.affectedAssets.length > MAX_AFFECTED) {
        violations.push(violation('affected_assets', `at most ${MAX_AFFECTED}`));
      }
      req.affectedAssets.forEach((a, i) => {
        if (!ASSET_ID.test(a.assetId))
          violations.push(violation(`affected_assets[${i}].asset_id`, 'is not an asset id'));
        if (!(a.loss >= 0 && a.loss <= 1))
          violations.push(violation(`affected_assets[${i}].loss`, 'must be in [0, 1]'));
      });
      if (!(req.horizonHours >= 0 && req.horizonHours <= MAX_HORIZON_HOURS)) {
        violations.push(violation('horizon_hours', `must be 0 (a week) to ${MAX_HORIZON_HOURS}`));
      }
      if (violations.length > 0) throw invalidArgument(violations);
      const assessment = await service.assess(caller, {
        ...(req.incidentId ? { incidentId: req.incidentId } : {}),
        // An unset loss is a total loss, as on incidents.
        affectedAssets: req.affectedAssets.map((a) => ({ assetId: a.assetId, loss: a.loss || 1 })),
        ...(req.horizonHours ? { horizonHours: req.horizonHours } : {}),
      });
      return { assessment: assessmentToProto(assessment) };
    }),

    getAssessment: handle<impactV1.GetAssessmentRequest, impactV1.GetAssessmentResponse>(
      async (req, caller) => {
        if (!/^(incident-inc_[a-z0-9]{1,64}|whatif-[0-9a-f-]{36})$/.test(req.assessmentId)) {
          throw invalidArgument([violation('assessment_id', 'is not an assessment id')]);
        }
        return { assessment: assessmentToProto(await service.getAssessment(caller, req.assessmentId)) };
      },
    ),
  };

  return {
    name: 'beacon.impact.v1.ImpactService',
    definition: impactV1.ImpactServiceService,
    implementation,
  };
}

function violation(field: string, description: string): FieldViolation {
  return { field, description, reason: 'INVALID' };
}

/** `asset.operatorId` → `asset.operator_id`. */
function fieldPath(field: string): string {
  return field.split('.').map(snake).join('.');
}

function requireAssetId(field: string, value: string): void {
  if (!ASSET_ID.test(value)) throw invalidArgument([violation(field, 'is not an asset id')]);
}

function pageViolations(size: number, max: number): FieldViolation[] {
  return size < 0 || size > max ? [violation('page_size', `must be 0 to ${max}`)] : [];
}

function dependencyViolations(d: ReturnType<typeof dependencyFromProto>, prefix: string): FieldViolation[] {
  const violations: FieldViolation[] = [];
  if (!ASSET_ID.test(d.dependentId))
    violations.push(violation(`${prefix}.dependent_id`, 'is not an asset id'));
  if (!ASSET_ID.test(d.providerId)) violations.push(violation(`${prefix}.provider_id`, 'is not an asset id'));
  if (!isDependencyKind(d.kind)) {
    violations.push(violation(`${prefix}.kind`, `must be one of ${DEPENDENCY_KINDS.join(', ')}`));
  }
  for (const p of dependencyProblems(d)) violations.push(violation(`${prefix}.${snake(p.field)}`, p.message));
  return violations;
}
