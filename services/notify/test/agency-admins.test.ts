import { status, type ServiceError } from '@grpc/grpc-js';
import { describe, expect } from 'vitest';
import type { notifyV1 } from '@beacon/proto';
import { test as base } from '@beacon/testkit';
import { agency, call, startStack, TLP, type Stack } from './harness.js';

const test = base.extend('stack', async ({ infra, names }, { onCleanup }): Promise<Stack> => {
  const stack = await startStack(infra, names);
  onCleanup(() => stack.stop());
  return stack;
});

async function refusal(promise: Promise<unknown>): Promise<{ code: number; details: string }> {
  try {
    await promise;
  } catch (error) {
    return { code: (error as ServiceError).code, details: (error as ServiceError).details };
  }
  throw new Error('the change was accepted');
}

describe('an agency’s admins keep its contacts, not its vetting', () => {
  test('an admin’s own contacts change; its clearance, remit and jurisdictions do not, and nothing of a refused change is stored', async ({
    stack: t,
  }) => {
    const cc = await t.token(['coordinator']);
    const admin = await t.token(['agency_admin'], 'support-x');
    const put = (a: notifyV1.Agency, version: number, token: string) =>
      call<notifyV1.PutAgencyResponse>(
        t.notifyClient,
        'putAgency',
        { agency: a, expectedVersion: version },
        token,
      );
    const vetted = agency('support-x', 'GREEN', {
      sectors: ['healthcare-and-public-health'],
      jurisdictions: ['DE-BY'],
    });
    const { agency: registered } = await put(vetted, 0, cc);

    // An admin registers nothing, and raises nothing that makes its agency more trusted.
    expect((await refusal(put(agency('support-y', 'GREEN'), 0, admin))).code).toBe(status.PERMISSION_DENIED);
    const raise = await refusal(
      put(
        { ...vetted, clearance: TLP.RED, sectors: [], jurisdictions: ['DE', 'FR'], name: 'National CSIRT' },
        1,
        admin,
      ),
    );
    expect(raise.code).toBe(status.PERMISSION_DENIED);
    for (const field of ['agency.clearance', 'agency.sectors', 'agency.jurisdictions', 'agency.name'])
      expect(raise.details).toContain(field);
    const { agency: unchanged } = await call<notifyV1.GetAgencyResponse>(
      t.notifyClient,
      'getAgency',
      { agencyId: 'support-x' },
      cc,
    );
    expect(unchanged).toMatchObject({
      clearance: TLP.GREEN,
      jurisdictions: ['DE-BY'],
      version: registered!.version,
    });

    // Its contacts are its own.
    const contacts = [
      { role: 'duty-officer', name: 'Night desk', email: 'night@support-x.example', phone: '' },
      { role: 'head', name: 'Head of service', email: '', phone: '+4989123456' },
    ];
    const { agency: updated } = await put({ ...vetted, contacts }, registered!.version, admin);
    expect(updated).toMatchObject({ contacts, clearance: TLP.GREEN, version: registered!.version + 1 });

    // Another agency's admin changes nothing of it; the coordination centre vets.
    const stranger = await t.token(['agency_admin'], 'other-agency');
    expect((await refusal(put({ ...vetted, contacts }, updated!.version, stranger))).code).toBe(
      status.PERMISSION_DENIED,
    );
    const { agency: revetted } = await put(
      { ...vetted, contacts, clearance: TLP.AMBER },
      updated!.version,
      cc,
    );
    expect(revetted).toMatchObject({ clearance: TLP.AMBER });
  });
});
