import { canRewrapKeys, type Caller } from '../domain/access.js';
import { recordAudit, refuse, type VictimsDeps } from './case-work.js';

/** Moves up to `limit` data keys to the current KEK; an erasure in between wins. */
export async function rewrapKeys(
  deps: VictimsDeps,
  caller: Caller,
  limit: number,
): Promise<{ rewrapped: number; remaining: number; currentKeyId: string }> {
  if (!canRewrapKeys(caller)) throw refuse('keys are re-wrapped by Beacon services (operators’ tooling)');
  const { cipher, cases } = deps;
  const current = cipher.currentKeyId;
  const candidates = await cases.keysNotWrappedBy(current, limit);
  const changes = candidates.flatMap(({ id, dataKey }) => {
    const to = cipher.rewrap(id, dataKey);
    return to ? [{ id, from: dataKey, to }] : [];
  });
  const rewrapped = changes.length > 0 ? await cases.replaceKeys(changes) : 0;
  if (rewrapped > 0) {
    await recordAudit(
      deps,
      caller,
      'rewrap',
      changes.map((c) => c.id),
      `to key-encryption key ${current}`,
    );
  }
  return { rewrapped, remaining: await cases.countKeysNotWrappedBy(current), currentKeyId: current };
}
