import { describe, expect, it } from 'vitest';
import {
  csvKind,
  parseCsvLine,
  parseJsonLine,
  parseRegistryLines,
  splitCsv,
  type ParsedLine,
} from './registry-file.js';

async function* linesOf(text: string) {
  yield* text.split('\n');
}

async function parse(text: string, csv: boolean): Promise<ParsedLine[]> {
  const out: ParsedLine[] = [];
  for await (const line of parseRegistryLines(linesOf(text), csv)) out.push(line);
  return out;
}

describe('registry files', () => {
  it('reads JSON Lines, skipping blank lines but counting them', async () => {
    const parsed = await parse(
      '{"asset":{"id":"a"}}\n\n{"dependency":{"dependentId":"a"}}\n{"both":1}\nnot json',
      false,
    );
    expect(parsed.map((p) => ('row' in p ? [p.line, Object.keys(p.row)[0]] : [p.line, p.field]))).toEqual([
      [1, 'asset'],
      [3, 'dependency'],
      [4, 'row'],
      [5, 'row'],
    ]);
    expect(parseJsonLine('{"asset":[1]}', 9)).toEqual({
      line: 9,
      field: 'asset',
      error: 'must be an object',
    });
  });

  it('reads asset CSV in the JSON mapping the gateway takes, with quoting', async () => {
    const csv = [
      'id,name,operator_id,sector,jurisdiction,lat,lon,population_served,criticality,services,tlp',
      'sub-1,"Substation ""North"", 110 kV",op-grid,energy,DE-BY,48.1,11.5,120000,4,electricity;grid-control,amber+strict',
      'sub-2,Substation,op-grid,energy,DE-BY,north,11.5,1,1,,',
    ].join('\n');
    const [first, second] = await parse(csv, true);
    expect(first).toEqual({
      line: 2,
      row: {
        asset: {
          id: 'sub-1',
          name: 'Substation "North", 110 kV',
          operatorId: 'op-grid',
          sector: 'energy',
          jurisdiction: 'DE-BY',
          location: { lat: 48.1, lon: 11.5 },
          populationServed: 120_000,
          criticality: 4,
          services: ['electricity', 'grid-control'],
          tlp: 'TLP_AMBER_STRICT',
        },
      },
    });
    expect(second).toEqual({ line: 3, field: 'asset.lat', error: '"north" is not a number' });
  });

  it('reads dependency CSV and refuses a header it does not know, or a short row', async () => {
    const parsed = await parse(
      'dependent_id,provider_id,kind,time_to_impact_hours,degradation,backup_hours\nh,g,power,0,1,72\nh,g,power',
      true,
    );
    expect(parsed[0]).toEqual({
      line: 2,
      row: {
        dependency: {
          dependentId: 'h',
          providerId: 'g',
          kind: 'power',
          timeToImpactHours: 0,
          degradation: 1,
          backupHours: 72,
        },
      },
    });
    expect(parsed[1]).toMatchObject({ line: 3, field: 'row' });
    expect(await parse('a,b,c\n1,2,3', true)).toMatchObject([{ line: 1, field: 'header' }]);
    expect(csvKind(['ID', 'Name'])).toBeUndefined();
    expect(splitCsv('"open')).toBeUndefined();
    expect(parseCsvLine('x,y,power,1,1', 4, 'dependency')).toMatchObject({ field: 'row' });
  });
});
