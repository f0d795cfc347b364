/**
 * A recovery sweep's loop: `work` on each pending item in turn, one that fails not holding up
 * the others. Once all were tried, throws an AggregateError saying how many of how many
 * `failed` (e.g. "reports could not be linked") if any did; else returns how many there were.
 */
export async function eachPending<T>(
  pending: readonly T[],
  failed: string,
  work: (item: T) => Promise<unknown>,
): Promise<number> {
  const failures: unknown[] = [];
  for (const item of pending) {
    try {
      await work(item);
    } catch (error) {
      failures.push(error);
    }
  }
  if (failures.length > 0) {
    throw new AggregateError(failures, `${failures.length} of ${pending.length} ${failed}`);
  }
  return pending.length;
}
