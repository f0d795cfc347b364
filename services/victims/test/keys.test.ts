import { status } from '@grpc/grpc-js';
import { describe, expect } from 'vitest';
import { test as base } from '@beacon/testkit';
import { failure, kek, newCase, startVictimsStack, victimsCaller, type VictimsStack } from './harness.js';

const OLD = kek('k2025');
const NEW = kek('k2026');

const test = base.extend('stack', async ({ infra, names }, { onCleanup }): Promise<VictimsStack> => {
  const stack = await startVictimsStack(infra, names, { keks: OLD });
  onCleanup(() => stack.stop());
  return stack;
});

describe('key-encryption key rotation', () => {
  test('a new KEK takes over without downtime, RewrapKeys moves every case to it, and the old one can then go', async ({
    stack: t,
    mongoClient,
  }) => {
    const officer = await t.call(['victim_officer'], 'vs-bayern');
    const rows = Array.from({ length: 25 }, (_, i) => ({
      clientRef: `rotation-row-${i}`,
      case: newCase({ victim: { ...newCase().victim!, displayName: `Victim ${i}` } }),
    }));
    const { cases } = await officer('importCases', { rows, firstRow: 1 });
    expect(cases).toHaveLength(25);
    const erasedId = cases[24]!.caseId;
    await officer('eraseVictimData', { caseId: erasedId });
    const kekOf = async (id: string) =>
      (
        (
          await mongoClient
            .db(t.db)
            .collection('cases')
            .findOne({ _id: id as never })
        )?.['dataKey'] as { kekId: string } | undefined
      )?.kekId;
    expect(await kekOf(cases[0]!.caseId)).toBe('k2025');

    // Both keys configured, the new one current: old cases read as before, new ones use it.
    await t.restart({ keks: `${NEW},${OLD}` });
    const again = await t.call(['victim_officer'], 'vs-bayern');
    expect((await again('getCase', { caseId: cases[3]!.caseId })).case!.victim!.displayName).toBe('Victim 3');
    const { case: fresh } = await again('openCase', { case: newCase() });
    expect(await kekOf(fresh!.id)).toBe('k2026');

    // Re-wrapping is an operator's job, done in batches until nothing is left.
    expect((await failure((await t.call(['coordinator']))('rewrapKeys', { limit: 0 }))).code).toBe(
      status.PERMISSION_DENIED,
    );
    // Only the key-rotation job's identity may: the response worker's is refused like anyone.
    expect((await failure((await t.call(['service']))('rewrapKeys', { limit: 0 }))).code).toBe(
      status.PERMISSION_DENIED,
    );
    const ops = victimsCaller(t.client, await t.token(['service'], undefined, 'key-rotation'));
    expect(await ops('rewrapKeys', { limit: 10 })).toEqual({
      rewrapped: 10,
      remaining: 14,
      currentKeyId: 'k2026',
    });
    expect(await ops('rewrapKeys', { limit: 0 })).toEqual({
      rewrapped: 14,
      remaining: 0,
      currentKeyId: 'k2026',
    });
    expect(await ops('rewrapKeys', { limit: 0 })).toEqual({
      rewrapped: 0,
      remaining: 0,
      currentKeyId: 'k2026',
    });
    // The erased case has no key to move: erasure stays erasure.
    expect(await kekOf(erasedId)).toBeUndefined();

    // The old KEK retired: every case still reads.
    await t.restart({ keks: NEW });
    const last = await t.call(['victim_officer'], 'vs-bayern');
    for (const c of cases.slice(0, 24)) {
      expect((await last('getCase', { caseId: c.caseId })).case!.id).toBe(c.caseId);
    }
    expect((await failure(last('getCase', { caseId: erasedId }))).code).toBe(status.FAILED_PRECONDITION);
    const auditor = await t.call(['auditor']);
    const { records } = await auditor('listAuditRecords', {
      caseId: cases[0]!.caseId,
      pageSize: 0,
      pageToken: '',
    });
    expect(records.map((r) => [r.action, r.detail])).toContainEqual([
      'rewrap',
      'to key-encryption key k2026',
    ]);
  });

  test('a case whose KEK is missing from the configuration fails clearly, without revealing anything', async ({
    stack: t,
  }) => {
    const officer = await t.call(['victim_officer'], 'vs-bayern');
    const { case: opened } = await officer('openCase', { case: newCase() });
    // Someone removed the old key before re-wrapping.
    await t.restart({ keks: NEW });
    const after = await failure(
      (await t.call(['victim_officer'], 'vs-bayern'))('getCase', { caseId: opened!.id }),
    );
    expect([after.code, after.message]).toEqual([
      status.FAILED_PRECONDITION,
      'key-encryption key k2025 is not configured',
    ]);
    expect(t.logs.some((line) => line.includes('sealed personal data could not be opened'))).toBe(true);
  });
});
