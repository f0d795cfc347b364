import type { ServiceError } from '@grpc/grpc-js';
import { status } from '@grpc/grpc-js';
import { describe, expect } from 'vitest';
import { fieldViolations } from '@beacon/platform';
import { test as base } from '@beacon/testkit';
import { openRequest, report, rpc, startTestIntake, type TestIntake } from './harness.js';

const test = base.extend('intake', async ({ infra, names }, { onCleanup }): Promise<TestIntake> => {
  const t = await startTestIntake(infra, names);
  onCleanup(() => t.stop());
  return t;
});

async function refusal(call: Promise<unknown>) {
  try {
    await call;
  } catch (error) {
    const e = error as ServiceError;
    return { code: e.code, violations: fieldViolations(e.metadata) };
  }
  throw new Error('the call succeeded');
}

describe('control characters in titles', () => {
  test('a report or incident title with CR/LF, TAB or a line separator is refused naming the title; a normal title, and a description with line breaks, are accepted', async ({
    intake: t,
  }) => {
    const analyst = await t.token({ roles: ['agency_analyst'], agencyId: 'cert-de' });
    const coordinator = await t.token({ roles: ['coordinator'] });

    for (const title of [
      'Outage\r\nX-Injected: yes',
      'Outage\tat plant',
      'Outage\u2028at plant',
      'Outage\u0085',
    ]) {
      const answer = await refusal(rpc(t, 'submitReport', report({ title }), analyst));
      expect(answer.code, JSON.stringify(title)).toBe(status.INVALID_ARGUMENT);
      expect(answer.violations.map((v) => [v.field, v.reason])).toEqual([['title', 'CONTROL_CHARACTERS']]);
      expect(answer.violations[0]!.description).toMatch(
        /control character \(U\+[0-9A-F]{4} at position \d+\)/,
      );
    }
    const opened = await refusal(
      rpc(t, 'openIncident', openRequest({ title: 'Grid\r\ndisturbance' }), coordinator),
    );
    expect(opened.violations.map((v) => v.field)).toEqual(['title']);

    const accepted = await rpc(
      t,
      'submitReport',
      report({ title: 'Ransomware at Stadtwerke München', description: 'Line one.\r\n\tLine two.' }),
      analyst,
    );
    expect(accepted.report).toMatchObject({ title: 'Ransomware at Stadtwerke München' });
    const incident = await rpc(t, 'openIncident', openRequest(), coordinator);
    expect(incident.incident?.title).toBe(openRequest().title);
  });
});
