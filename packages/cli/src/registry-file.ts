/**
 * Registry files for `beacon assets import`: JSON Lines of `{"asset": {...}}` and
 * `{"dependency": {...}}` in the proto3 JSON mapping, or CSV with a header naming either the
 * asset columns or the dependency columns. Parsed a line at a time so files of millions of
 * rows stream through; every problem names the file line and the field.
 */

/** One row as the gateway's import call takes it. */
export type RegistryRow =
  { readonly asset: Record<string, unknown> } | { readonly dependency: Record<string, unknown> };

/** A parsed line: the row, or what is wrong with it. */
export type ParsedLine =
  | { readonly line: number; readonly row: RegistryRow }
  | { readonly line: number; readonly field: string; readonly error: string };

export const ASSET_COLUMNS = [
  'id',
  'name',
  'operator_id',
  'sector',
  'jurisdiction',
  'lat',
  'lon',
  'population_served',
  'criticality',
  'services',
  'tlp',
] as const;

export const DEPENDENCY_COLUMNS = [
  'dependent_id',
  'provider_id',
  'kind',
  'time_to_impact_hours',
  'degradation',
  'backup_hours',
] as const;

const MAX_LINE = 64 * 1024;

/** Parses one JSON Lines line (blank lines are skipped by the caller). */
export function parseJsonLine(text: string, line: number): ParsedLine {
  if (text.length > MAX_LINE) return { line, field: 'row', error: `longer than ${MAX_LINE} characters` };
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return { line, field: 'row', error: `not JSON: ${(error as Error).message}` };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { line, field: 'row', error: 'must be an object with "asset" or "dependency"' };
  }
  const keys = Object.keys(value);
  const [key] = keys;
  const inner = (value as Record<string, unknown>)[key ?? ''];
  if (keys.length !== 1 || (key !== 'asset' && key !== 'dependency')) {
    return { line, field: 'row', error: 'must have exactly one of "asset" or "dependency"' };
  }
  if (typeof inner !== 'object' || inner === null || Array.isArray(inner)) {
    return { line, field: key, error: 'must be an object' };
  }
  return {
    line,
    row:
      key === 'asset'
        ? { asset: inner as Record<string, unknown> }
        : { dependency: inner as Record<string, unknown> },
  };
}

/** Splits one CSV record (RFC 4180 quoting, no line breaks inside fields). */
export function splitCsv(text: string): string[] | undefined {
  const fields: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"' && field === '') quoted = true;
    else if (c === ',') {
      fields.push(field);
      field = '';
    } else field += c;
  }
  if (quoted) return undefined;
  fields.push(field);
  return fields;
}

/** What a CSV header says the file holds. */
export type CsvKind = 'asset' | 'dependency';

export function csvKind(header: readonly string[]): CsvKind | undefined {
  const names = header.map((h) => h.trim().toLowerCase());
  const same = (columns: readonly string[]) =>
    names.length === columns.length && columns.every((c, i) => names[i] === c);
  if (same(ASSET_COLUMNS)) return 'asset';
  if (same(DEPENDENCY_COLUMNS)) return 'dependency';
  return undefined;
}

const NUMBER = /^-?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?$/;

/** Parses one CSV data record of a file whose header said `kind`. */
export function parseCsvLine(text: string, line: number, kind: CsvKind): ParsedLine {
  const fields = splitCsv(text);
  const columns = kind === 'asset' ? ASSET_COLUMNS : DEPENDENCY_COLUMNS;
  if (!fields) return { line, field: 'row', error: 'an unterminated quoted field' };
  if (fields.length !== columns.length) {
    return { line, field: 'row', error: `has ${fields.length} fields, the header ${columns.length}` };
  }
  const at = (column: string) => fields[columns.indexOf(column as never)]!.trim();
  const numeric: Record<string, number> = {};
  const numericColumns =
    kind === 'asset'
      ? ['lat', 'lon', 'population_served', 'criticality']
      : ['time_to_impact_hours', 'degradation', 'backup_hours'];
  for (const column of numericColumns) {
    const text = at(column);
    if (!NUMBER.test(text)) return { line, field: `${kind}.${column}`, error: `"${text}" is not a number` };
    numeric[column] = Number(text);
  }
  if (kind === 'dependency') {
    return {
      line,
      row: {
        dependency: {
          dependentId: at('dependent_id'),
          providerId: at('provider_id'),
          kind: at('kind'),
          timeToImpactHours: numeric['time_to_impact_hours'],
          degradation: numeric['degradation'],
          backupHours: numeric['backup_hours'],
        },
      },
    };
  }
  const tlp = at('tlp').toUpperCase().replace(/^TLP:/, '').replace('+', '_');
  return {
    line,
    row: {
      asset: {
        id: at('id'),
        name: at('name'),
        operatorId: at('operator_id'),
        sector: at('sector'),
        jurisdiction: at('jurisdiction'),
        location: { lat: numeric['lat'], lon: numeric['lon'] },
        populationServed: numeric['population_served'],
        criticality: numeric['criticality'],
        services:
          at('services') === ''
            ? []
            : at('services')
                .split(';')
                .map((s) => s.trim()),
        tlp: tlp === '' ? 'TLP_UNSPECIFIED' : `TLP_${tlp}`,
      },
    },
  };
}

/**
 * Turns the lines of a registry file into rows, lazily. The format is CSV when the file name
 * ends in `.csv`, JSON Lines otherwise.
 */
export async function* parseRegistryLines(
  lines: AsyncIterable<string>,
  csv: boolean,
): AsyncGenerator<ParsedLine> {
  let number = 0;
  let kind: CsvKind | undefined;
  for await (const raw of lines) {
    number++;
    const text = raw.replace(/\r$/, '');
    if (text.trim() === '') continue;
    if (!csv) {
      yield parseJsonLine(text, number);
      continue;
    }
    if (kind === undefined) {
      kind = csvKind(splitCsv(text) ?? []);
      if (!kind) {
        yield {
          line: number,
          field: 'header',
          error: `must be either ${ASSET_COLUMNS.join(',')} or ${DEPENDENCY_COLUMNS.join(',')}`,
        };
        return;
      }
      continue;
    }
    yield parseCsvLine(text, number, kind);
  }
}
