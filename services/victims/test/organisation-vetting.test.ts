import { status } from '@grpc/grpc-js';
import { describe, expect } from 'vitest';
import { victimsV1 } from '@beacon/proto';
import { test as base } from '@beacon/testkit';
import { failure, organisation, startVictimsStack, type VictimsStack } from './harness.js';

const test = base.extend('stack', async ({ infra, names }, { onCleanup }): Promise<VictimsStack> => {
  const stack = await startVictimsStack(infra, names);
  onCleanup(() => stack.stop());
  return stack;
});

const { NeedKind } = victimsV1;

describe('a support organisation’s admins do not vet their own organisation', () => {
  test('an admin’s attempt to make its organisation crisis-capable, everywhere, with room for 100,000 is refused naming the fields and changes nothing; its languages and intake pause are its own', async ({
    stack: t,
  }) => {
    const cc = await t.call(['coordinator']);
    const admin = await t.call(['agency_admin'], 'small-support');
    const vetted = organisation('small-support', { jurisdictions: ['DE-BY'], capacity: 5 });
    const { organisation: registered } = await cc('putSupportOrganisation', {
      organisation: vetted,
      expectedVersion: 0,
    });

    // The attack as reproduced: crisis-capable, every jurisdiction, capacity 100,000.
    const attack = await failure(
      admin('putSupportOrganisation', {
        organisation: {
          ...vetted,
          crisisCapable: true,
          jurisdictions: ['DE', 'AT', 'CH', 'FR', 'NL'],
          capacity: 100_000,
          needsCovered: [NeedKind.NEED_KIND_FINANCIAL_LOSS, NeedKind.NEED_KIND_SEXTORTION],
        },
        expectedVersion: registered!.version,
      }),
    );
    expect(attack.code).toBe(status.PERMISSION_DENIED);
    for (const field of ['crisis_capable', 'jurisdictions', 'capacity', 'needs_covered'])
      expect(attack.message).toContain(`organisation.${field}`);
    expect(attack.message).not.toContain('organisation.languages');

    // Sneaking one vetting change in with a harmless one changes nothing either.
    const mixed = await failure(
      admin('putSupportOrganisation', {
        organisation: { ...vetted, languages: ['de', 'tr'], name: 'National Crisis Line' },
        expectedVersion: registered!.version,
      }),
    );
    expect(mixed.code).toBe(status.PERMISSION_DENIED);
    expect(mixed.message).toContain('organisation.name');
    const [unchanged] = (await cc('listSupportOrganisations', {})).organisations.filter(
      (o) => o.id === 'small-support',
    );
    expect(unchanged).toMatchObject({
      crisisCapable: false,
      jurisdictions: ['DE-BY'],
      capacity: 5,
      languages: ['de', 'en'],
      name: 'Org small-support',
      version: registered!.version,
    });

    // What is its own: the languages it helps in, and pausing its intake.
    const { organisation: own } = await admin('putSupportOrganisation', {
      organisation: { ...vetted, languages: ['de', 'tr', 'ar'], accepting: false },
      expectedVersion: registered!.version,
    });
    expect(own).toMatchObject({
      languages: ['de', 'tr', 'ar'],
      accepting: false,
      capacity: 5,
      crisisCapable: false,
    });

    // The coordination centre vets: it may change all of it.
    const { organisation: vettedAgain } = await cc('putSupportOrganisation', {
      organisation: {
        ...vetted,
        languages: ['de', 'tr', 'ar'],
        accepting: false,
        crisisCapable: true,
        capacity: 20,
      },
      expectedVersion: own!.version,
    });
    expect(vettedAgain).toMatchObject({ crisisCapable: true, capacity: 20 });

    // Another organisation's admin may change nothing of it, not even its languages.
    const stranger = await t.call(['agency_admin'], 'other-support');
    const foreign = await failure(
      stranger('putSupportOrganisation', {
        organisation: { ...vetted, languages: ['fr'] },
        expectedVersion: vettedAgain!.version,
      }),
    );
    expect(foreign.code).toBe(status.PERMISSION_DENIED);
  });
});
