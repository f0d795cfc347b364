import {
  classification as toClassification,
  classificationProblem,
  invalidNcissInputs,
  isSector,
  NCISS_INPUTS,
  partialNcissInputs,
  normaliseIndicator,
  parseJurisdiction,
  type Classification,
  type NcissInput,
  type NcissInputs,
  type Observable,
  type PartialNcissInputs,
  type Tlp,
} from '@beacon/domain';
import { protoFieldName, RequestValidator } from '@beacon/platform';
import { FIELD_RULES, type commonV1 } from '@beacon/proto';
import {
  isAssetId,
  mergeAffectedAssets,
  normaliseLoss,
  type AffectedAsset,
} from '../../domain/affected-asset.js';
import { tlpFromProto } from '../proto-mapping.js';

/**
 * The limits of intake's request fields, declared in proto/ (`beacon.api.v1.field`) and read
 * here from the generated table: the gateway's OpenAPI document states the same.
 */
export const RULES = FIELD_RULES['beacon.intake.v1'];

/** A repeated field's limit. */
type MaxItems = { readonly maxItems: number };

/** The platform's request validation, with the checks of reports and incidents. */
export class Validator extends RequestValidator {
  tlp(field: string, value: commonV1.Tlp): Tlp | undefined {
    return (
      tlpFromProto(value) ??
      this.fail(field, 'is required: one of CLEAR, GREEN, AMBER, AMBER+STRICT, RED', 'REQUIRED')
    );
  }

  classification(field: string, value: commonV1.Classification | undefined): Classification | undefined {
    if (!value) return this.fail(field, 'is required', 'REQUIRED');
    const found = toClassification(value.rsitClass, value.rsitType);
    if (found) return found;
    // Names what would do: the classes, or the types of the class given.
    const problem = classificationProblem(value.rsitClass, value.rsitType)!;
    return this.fail(`${field}.${protoFieldName(problem.field)}`, problem.message, 'UNKNOWN_CLASSIFICATION');
  }

  sectors(field: string, values: readonly string[], rule: MaxItems): string[] {
    this.atMost(field, values, rule);
    values.forEach((v, i) => {
      if (!isSector(v)) this.fail(`${field}[${i}]`, `"${v}" is not a CISA sector id`, 'UNKNOWN_SECTOR');
    });
    return [...new Set(values)];
  }

  jurisdictions(field: string, values: readonly string[], rule: MaxItems): string[] {
    this.atMost(field, values, rule);
    const parsed = values.map(
      (v, i) =>
        parseJurisdiction(v) ??
        this.fail(`${field}[${i}]`, `"${v}" is not an ISO 3166 code`, 'UNKNOWN_JURISDICTION'),
    );
    return [...new Set(parsed.filter((p): p is NonNullable<typeof p> => p !== undefined))];
  }

  /** Indicators, defanged ones refanged, each with the text reported when it differs. */
  observables(field: string, values: readonly commonV1.Observable[], rule: MaxItems): Observable[] {
    if (!this.atMost(field, values, rule)) return [];
    const out: Observable[] = [];
    values.forEach((o, i) => {
      const result = normaliseIndicator(o.type, o.value);
      if (result.ok) out.push(result.observable);
      else this.fail(`${field}[${i}]`, result.reason, 'INVALID_OBSERVABLE');
    });
    return out;
  }

  /** Affected assets, each once with the largest loss given for it; a loss of 0 means 1. */
  affectedAssets(field: string, values: readonly commonV1.AffectedAsset[], rule: MaxItems): AffectedAsset[] {
    if (!this.atMost(field, values, rule)) return [];
    const out: AffectedAsset[] = [];
    values.forEach((a, i) => {
      const idOk = isAssetId(a.assetId);
      if (!idOk) {
        this.fail(
          `${field}[${i}].asset_id`,
          'must be 1 to 128 letters, digits or . _ : -, starting with a letter or digit',
          'INVALID_ASSET_ID',
        );
      }
      const loss = normaliseLoss(a.loss);
      if (loss === undefined)
        this.fail(
          `${field}[${i}].loss`,
          'must be a finite number from 0 to 1 (0 means total loss)',
          'OUT_OF_RANGE',
        );
      if (idOk && loss !== undefined) out.push({ assetId: a.assetId, loss });
    });
    return mergeAffectedAssets(out);
  }

  /** A point in time that has happened (allowing a little clock skew) and is after 1990. */
  pastTime(field: string, value: Date | undefined, now: Date): Date | undefined {
    if (!value) return this.fail(field, 'is required', 'REQUIRED');
    if (value.getTime() > now.getTime() + 5 * 60_000)
      return this.fail(field, 'is in the future', 'IN_FUTURE');
    if (value.getTime() < Date.UTC(1990, 0, 1)) return this.fail(field, 'is before 1990', 'TOO_OLD');
    return value;
  }

  severityInputs(field: string, value: commonV1.SeverityInputs | undefined): NcissInputs | undefined {
    if (!value) return this.fail(field, 'is required', 'REQUIRED');
    const bad = invalidNcissInputs({ ...value });
    for (const input of bad) {
      this.fail(
        `${field}.${protoFieldName(input)}`,
        `is not a known category: one of ${NCISS_INPUTS[input as NcissInput].join(', ')}`,
        'UNKNOWN_CATEGORY',
      );
    }
    return bad.length === 0 ? (value as unknown as NcissInputs) : undefined;
  }

  /**
   * Some of the inputs (a reporter's judgement, a cascade's two): an empty or absent category
   * is not given; any other must be on its input's scale, and a violation lists the scale.
   * `only` restricts which inputs are read (the others are ignored).
   */
  partialSeverityInputs(
    field: string,
    value: commonV1.SeverityInputs | undefined,
    only?: readonly NcissInput[],
  ): PartialNcissInputs | undefined {
    if (!value) return {};
    const raw: Record<string, string> = { ...value };
    const read = only ? Object.fromEntries(only.map((input) => [input, raw[input]])) : raw;
    const { inputs, invalid } = partialNcissInputs(read);
    for (const input of invalid) {
      this.fail(
        `${field}.${protoFieldName(input)}`,
        `is not a known category: one of ${NCISS_INPUTS[input].join(', ')} (or empty)`,
        'UNKNOWN_CATEGORY',
      );
    }
    return invalid.length === 0 ? inputs : undefined;
  }
}
