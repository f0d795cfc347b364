import { randomBytes } from 'node:crypto';

/**
 * Names no other test uses, so tests share one set of servers without seeing each other's
 * streams, subjects, databases or task queues.
 */
export interface TestNames {
  /** Short random id, lowercase hex. */
  readonly id: string;
  /** A JetStream stream name (no dots allowed there). */
  stream(base: string): string;
  /** A subject under this test's own root, e.g. `t1a2b.beacon.evt.x`. */
  subject(base: string): string;
  database(base?: string): string;
  taskQueue(base?: string): string;
}

export function testNames(): TestNames {
  const id = randomBytes(4).toString('hex');
  return {
    id,
    stream: (base) => `T${id}_${base}`,
    subject: (base) => `t${id}.${base}`,
    database: (base = 'db') => `t${id}_${base}`,
    taskQueue: (base = 'tq') => `t${id}-${base}`,
  };
}
