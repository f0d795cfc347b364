/**
 * Two processes of the workflows' event roles (starter and acknowledgements) against the same
 * NATS and Temporal, beside a worker: they share the durable consumers, and every incident
 * gets its response from exactly one of them, once.
 */
import { describe, expect } from 'vitest';
import { NCISS_BASELINE } from '@beacon/domain';
import { recordingLogger, test, waitFor } from '@beacon/testkit';
import { loadConfig, startWorkflows, type RunningWorkflows } from '../src/index.js';
import { rest, startResponseStack } from './support/stack.js';

const STARTED = 'incident response started, or already running';

describe('two instances of the workflows process', () => {
  test('share the incident events: every incident gets its response, started once by one of them', async ({
    infra,
    names,
    temporal,
  }) => {
    const s = await startResponseStack(infra, names, { roles: 'worker,api' });
    const logs = [recordingLogger('workflows-b'), recordingLogger('workflows-c')];
    const instances: RunningWorkflows[] = [];
    try {
      for (const { logger } of logs) {
        const config = loadConfig({ ...s.workflowsEnv, WORKFLOWS_ROLES: 'starter,acks' });
        instances.push(await startWorkflows(config, logger));
      }
      const cc = await s.token(['coordinator']);
      const incidentIds: string[] = [];
      for (let i = 0; i < 12; i++) {
        const opened = await rest(s, 'POST', '/v1/incidents', cc, {
          title: `Phishing wave ${i} against a regional bank`,
          tlp: 'TLP_GREEN',
          classification: { rsitClass: 'fraud', rsitType: 'phishing' },
          sectors: ['financial-services'],
          jurisdictions: ['DE-BY'],
          severityInputs: NCISS_BASELINE,
          awareAt: new Date(Date.now() - 60_000).toISOString(),
        });
        expect(opened.status, JSON.stringify(opened.body)).toBe(201);
        incidentIds.push((opened.body['incident'] as { id: string }).id);
      }

      const query = `IncidentId IN (${incidentIds.map((id) => `'${id}'`).join(', ')})`;
      const responses = await waitFor(
        async () => {
          const found: string[] = [];
          for await (const wf of temporal.workflow.list({ query })) found.push(wf.workflowId);
          if (found.length < incidentIds.length) throw new Error(`${found.length} responses listed`);
          return found;
        },
        { what: 'a response per incident', timeoutMs: 30_000, intervalMs: 250 },
      );
      expect(responses).toHaveLength(incidentIds.length);

      // Each instance started some; together each incident's once: no event handled twice.
      const started = logs.map(({ lines }) =>
        lines.filter((l) => l.msg === STARTED).map((l) => l.incidentId),
      );
      expect(started.every((ids) => ids.length > 0)).toBe(true);
      expect(started.flat().sort()).toEqual([...incidentIds].sort());
      expect(logs.flatMap(({ lines }) => lines.filter((l) => (l.level ?? 0) >= 40))).toEqual([]);
    } finally {
      for (const instance of instances) await instance.stop();
      await s.stop();
    }
  });
});
