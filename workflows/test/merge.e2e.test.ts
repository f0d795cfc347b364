/**
 * A merge of two incidents, each with its response, on the Temporal dev server with the real
 * services in this process: the coordinator merges through the gateway, intake announces it,
 * and the two responses become one. The survivor's response runs on with the union of the
 * engagements, each agency engaged once, and one set of regulatory clocks that now count from
 * the earlier awareness time; the merged incident's response ends its engagements and clocks
 * and completes.
 */
import { describe } from 'vitest';
import { test } from '@beacon/testkit';
import { expectOneSurvivor, twoResponses } from './support/merge-scenario.js';
import { startResponseStack } from './support/stack.js';

describe('merging two incidents with their responses', () => {
  test('leaves one survivor response with the union of engagements, each once, and one set of clocks from the earlier awareness', async ({
    infra,
    names,
    nats,
    temporal,
  }) => {
    const s = await startResponseStack(infra, names);
    try {
      const two = await twoResponses(s, temporal, nats);
      await two.merge();
      await expectOneSurvivor(s, temporal, nats, two);
    } finally {
      await s.stop();
    }
  }, 150_000);
});
