/**
 * An asset's coordinates are optional: a registry row may not know them, the cascade does not
 * need them (dependencies carry the impact), and only maps do. Through the gateway's REST door
 * against the real services: an asset without a location is stored, read back without one and
 * assessed; a replacement can drop a location it had; coordinates given are still checked.
 */
import { describe, expect } from 'vitest';
import { test as base } from '@beacon/testkit';
import { startTestStack, type TestStack } from './harness.js';

const test = base.extend('stack', async ({ infra, names }, { onCleanup }): Promise<TestStack> => {
  const stack = await startTestStack(infra, names);
  onCleanup(() => stack.stop());
  return stack;
});

async function rest(
  stack: TestStack,
  method: 'GET' | 'POST',
  path: string,
  token: string,
  body?: unknown,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(`${stack.http}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

const assetJson = (id: string, extra: Record<string, unknown> = {}) => ({
  id,
  name: `Asset ${id}`,
  operatorId: 'op-grid',
  sector: 'energy',
  jurisdiction: 'DE-BY',
  populationServed: 30_000,
  criticality: 4,
  tlp: 'TLP_GREEN',
  ...extra,
});

describe('assets without known coordinates', () => {
  test('are stored, read back without a location and assessed like any other', async ({ stack }) => {
    const cc = await stack.token({ roles: ['coordinator'], clearance: 'RED' });
    const put = await rest(stack, 'POST', '/v1/assets', cc, {
      asset: assetJson('substation-north'),
      expectedVersion: 0,
    });
    expect(put.status).toBe(200);
    const read = await rest(stack, 'GET', '/v1/assets/substation-north', cc);
    expect(read.status).toBe(200);
    expect(read.body['asset']).toMatchObject({ id: 'substation-north', version: 1 });
    expect(read.body['asset']).not.toHaveProperty('location');

    // A hospital with coordinates depends on it: the cascade reaches it all the same.
    expect(
      (
        await rest(stack, 'POST', '/v1/assets', cc, {
          asset: assetJson('hospital', {
            sector: 'healthcare-and-public-health',
            location: { lat: 48.14, lon: 11.58 },
          }),
          expectedVersion: 0,
        })
      ).status,
    ).toBe(200);
    expect(
      (
        await rest(stack, 'POST', '/v1/dependencies', cc, {
          dependency: {
            dependentId: 'hospital',
            providerId: 'substation-north',
            kind: 'power',
            timeToImpactHours: 1,
            degradation: 1,
          },
        })
      ).status,
    ).toBe(200);
    const assessed = await rest(stack, 'POST', '/v1/assessments', cc, {
      affectedAssets: [{ assetId: 'substation-north', loss: 1 }],
    });
    expect(assessed.status).toBe(201);
    expect((assessed.body['assessment'] as { impactedAssets: number }).impactedAssets).toBe(2);

    // Replacing the hospital without its coordinates drops them.
    const moved = await rest(stack, 'POST', '/v1/assets', cc, {
      asset: assetJson('hospital', { sector: 'healthcare-and-public-health' }),
      expectedVersion: 1,
    });
    expect(moved.status).toBe(200);
    expect((await rest(stack, 'GET', '/v1/assets/hospital', cc)).body['asset']).not.toHaveProperty(
      'location',
    );

    // Coordinates given are still checked, and the refusal names the coordinate.
    const wrong = await rest(stack, 'POST', '/v1/assets', cc, {
      asset: assetJson('buoy', { location: { lat: 91, lon: 11 } }),
      expectedVersion: 0,
    });
    expect(wrong.status).toBe(400);
    expect(wrong.body['violations']).toEqual([
      expect.objectContaining({ field: 'asset.location.lat', description: 'must be within -90 to 90' }),
    ]);
  });
});
