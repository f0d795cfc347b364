import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';

export interface Row {
  readonly name: string;
  readonly opsPerSecond: number;
  readonly p50Ms?: number;
  readonly p99Ms?: number;
  readonly note?: string;
}

export interface Check {
  readonly target: string;
  readonly measured: string;
  readonly pass: boolean;
}

/** Prints the rows and checks as a table and writes them, with the machine, as JSON. */
export function publish(suite: string, rows: readonly Row[], checks: readonly Check[], dir: string): string {
  const fmt = (n: number | undefined, digits = 1) =>
    n === undefined || Number.isNaN(n) ? '' : n.toFixed(digits);
  const table = [
    ['scenario', 'ops/s', 'p50 ms', 'p99 ms', 'note'],
    ...rows.map((r) => [r.name, fmt(r.opsPerSecond, 0), fmt(r.p50Ms, 2), fmt(r.p99Ms, 2), r.note ?? '']),
  ];
  const widths = table[0]!.map((_, c) => Math.max(...table.map((row) => row[c]!.length)));
  const line = (row: string[]) => `| ${row.map((cell, c) => cell.padEnd(widths[c]!)).join(' | ')} |`;
  console.log(`\n${suite}\n`);
  console.log(line(table[0]!));
  console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
  for (const row of table.slice(1)) console.log(line(row));
  console.log('');
  for (const check of checks)
    console.log(`${check.pass ? 'PASS' : 'MISS'}  ${check.target}: ${check.measured}`);

  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${suite}-${new Date().toISOString().replaceAll(':', '-')}.json`);
  writeFileSync(
    file,
    JSON.stringify(
      {
        suite,
        at: new Date().toISOString(),
        machine: {
          cpus: cpus().length,
          cpu: cpus()[0]?.model,
          memoryGiB: totalmem() / 2 ** 30,
          node: process.version,
        },
        rows,
        checks,
      },
      null,
      2,
    ),
  );
  console.log(`\nresults: ${file}`);
  return file;
}
