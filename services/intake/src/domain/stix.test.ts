import { describe, expect, it } from 'vitest';
import { NCISS_BASELINE, scoreSeverity, TLP_LEVELS, type ObservableType, type Tlp } from '@beacon/domain';
import type { Incident, IncidentObservable, IncidentStatus } from './incident.js';
import {
  exportIncidentStix,
  INCIDENT_CORE_EXTENSION_ID,
  observablePattern,
  TLP_EXTENSION_DEFINITION_ID,
  TLP_MARKING_IDS,
  type StixBundle,
  type StixIdentity,
  type StixIncident,
  type StixIndicator,
  type StixMarkingDefinition,
  type StixObject,
  type StixRelationship,
} from './stix.js';

const IDENTITY_ID = 'identity--7d7c3c8e-2f1a-4b6e-9a51-0c2d6f1e8b44';
const NOW = new Date('2025-03-04T05:06:07.089Z');

/** Deterministic ids that still look like v4 UUIDs to anything checking the form. */
function counterUuid(): () => string {
  let n = 0;
  return () => `00000000-0000-4000-8000-${(++n).toString(16).padStart(12, '0')}`;
}

/** Observables as reports shared them: labels more permissive than the incident's on purpose. */
const observable = (type: ObservableType, value: string, tlp: Tlp = 'GREEN'): IncidentObservable => ({
  type,
  value,
  tlp,
  reportId: 'rep-1',
});

const OBSERVABLES: readonly IncidentObservable[] = [
  observable('ipv4', '192.0.2.1', 'CLEAR'),
  observable('ipv6', '2001:db8::1'),
  observable('cidr', '10.0.0.0/8'),
  observable('cidr', '2001:db8::/32'),
  observable('domain', 'example.com'),
  observable('url', "https://example.com/it's/here"),
  observable('email', 'alice@example.com'),
  observable('md5', 'd41d8cd98f00b204e9800998ecf8427e'),
  observable('sha1', 'da39a3ee5e6b4b0d3255bfef95601890afd80709'),
  observable('sha256', 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'),
  observable('crypto-wallet', 'bitcoin:bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq'),
  observable('phone', '+4930123456789'),
];

function incidentFixture(overrides: Partial<Incident> = {}): Incident {
  const severityInputs = {
    ...NCISS_BASELINE,
    functionalImpact: 'denial-critical',
    actor: 'organised-crime',
  } as const;
  return {
    id: 'inc-0001',
    sourceAgencyId: 'cert-bayern',
    title: 'Ransomware at regional water utility',
    status: 'active',
    tlp: 'AMBER',
    classification: { rsitClass: 'malicious-code', rsitType: 'infected-system' },
    sectors: ['water'],
    jurisdictions: ['DE', 'DE-BE'],
    severityInputs,
    severity: scoreSeverity(severityInputs),
    severityOrigins: {},
    severityProposals: [],
    reportIds: ['rep-1', 'rep-2'],
    engagedAgencyIds: ['agency-bsi'],
    reporterAgencyIds: ['agency-cert-berlin'],
    observables: OBSERVABLES,
    affectedAssets: [],
    awareAt: new Date('2025-03-01T08:00:00.000Z'),
    openedAt: new Date('2025-03-01T09:30:00.000Z'),
    updatedAt: new Date('2025-03-03T12:00:00.000Z'),
    version: 7,
    ...overrides,
  };
}

function exportFixture(overrides: Partial<Incident> = {}): StixBundle {
  return exportIncidentStix(incidentFixture(overrides), {
    identityName: 'CERT Berlin',
    identityId: IDENTITY_ID,
    now: NOW,
    uuid: counterUuid(),
  });
}

const ofType = <T extends StixObject['type']>(bundle: StixBundle, type: T) =>
  bundle.objects.filter((o): o is Extract<StixObject, { type: T }> => o.type === type);
const only = <T extends StixObject['type']>(bundle: StixBundle, type: T) => {
  const objects = ofType(bundle, type);
  expect(objects).toHaveLength(1);
  return objects[0]!;
};

describe('exportIncidentStix', () => {
  it.each(TLP_LEVELS.map((tlp) => [tlp, TLP_MARKING_IDS[tlp]] as const))(
    'carries only the published TLP 2.0 marking for %s',
    (tlp: Tlp, id) => {
      const marking: StixMarkingDefinition = only(exportFixture({ tlp }), 'marking-definition');
      expect(marking).toEqual({
        type: 'marking-definition',
        spec_version: '2.1',
        id,
        created: '2022-10-01T00:00:00.000Z',
        name: `TLP:${tlp}`,
        extensions: {
          [TLP_EXTENSION_DEFINITION_ID]: { extension_type: 'property-extension', tlp_2_0: tlp.toLowerCase() },
        },
      });
    },
  );

  it('uses the OASIS ids for the five labels', () => {
    expect(TLP_MARKING_IDS).toEqual({
      CLEAR: 'marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487',
      GREEN: 'marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb',
      AMBER: 'marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421',
      'AMBER+STRICT': 'marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003',
      RED: 'marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1',
    });
  });

  it('builds the bundle, identity and incident', () => {
    const bundle = exportFixture();
    expect(bundle.type).toBe('bundle');
    expect(bundle.id).toBe('bundle--00000000-0000-4000-8000-000000000001');
    const identity: StixIdentity = only(bundle, 'identity');
    expect(identity).toEqual({
      type: 'identity',
      spec_version: '2.1',
      id: IDENTITY_ID,
      created: NOW.toISOString(),
      modified: NOW.toISOString(),
      name: 'CERT Berlin',
      identity_class: 'organization',
    });
    const incident: StixIncident = only(bundle, 'incident');
    expect(incident).toEqual({
      type: 'incident',
      spec_version: '2.1',
      id: 'incident--00000000-0000-4000-8000-000000000002',
      created: '2025-03-01T09:30:00.000Z',
      modified: '2025-03-03T12:00:00.000Z',
      created_by_ref: IDENTITY_ID,
      object_marking_refs: [TLP_MARKING_IDS.AMBER],
      name: 'Ransomware at regional water utility',
      labels: ['malicious-code', 'infected-system'],
      external_references: [{ source_name: 'beacon', external_id: 'inc-0001' }],
      extensions: {
        [INCIDENT_CORE_EXTENSION_ID]: {
          extension_type: 'property-extension',
          determination: 'confirmed',
          investigation_status: 'open',
        },
      },
      x_beacon_nciss: {
        score: incidentFixture().severity.score,
        level: incidentFixture().severity.level,
        level_name: incidentFixture().severity.levelName,
      },
      x_beacon_sectors: ['water'],
      x_beacon_jurisdictions: ['DE', 'DE-BE'],
    });
  });

  it.each<[IncidentStatus, string, string]>([
    ['reported', 'suspected', 'new'],
    ['triage', 'suspected', 'new'],
    ['active', 'confirmed', 'open'],
    ['contained', 'confirmed', 'open'],
    ['resolved', 'confirmed', 'closed'],
    ['closed', 'confirmed', 'closed'],
  ])('maps status %s to determination %s, investigation %s', (status, determination, investigation) => {
    const incident = only(exportFixture({ status }), 'incident');
    expect(incident.extensions[INCIDENT_CORE_EXTENSION_ID]).toEqual({
      extension_type: 'property-extension',
      determination,
      investigation_status: investigation,
    });
  });

  it('leaves out empty sector and jurisdiction lists, which STIX forbids', () => {
    const incident = only(exportFixture({ sectors: [], jurisdictions: [] }), 'incident');
    expect(incident).not.toHaveProperty('x_beacon_sectors');
    expect(incident).not.toHaveProperty('x_beacon_jurisdictions');
  });

  it('writes one indicator per observable with the pattern for its type', () => {
    const indicators: StixIndicator[] = ofType(exportFixture(), 'indicator');
    expect(indicators.map((i) => i.pattern)).toEqual([
      "[ipv4-addr:value = '192.0.2.1']",
      "[ipv6-addr:value = '2001:db8::1']",
      "[ipv4-addr:value = '10.0.0.0/8']",
      "[ipv6-addr:value = '2001:db8::/32']",
      "[domain-name:value = 'example.com']",
      "[url:value = 'https://example.com/it\\'s/here']",
      "[email-addr:value = 'alice@example.com']",
      "[file:hashes.'MD5' = 'd41d8cd98f00b204e9800998ecf8427e']",
      "[file:hashes.'SHA-1' = 'da39a3ee5e6b4b0d3255bfef95601890afd80709']",
      "[file:hashes.'SHA-256' = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855']",
      "[x-beacon-crypto-wallet:value = 'bitcoin:bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq']",
      "[x-beacon-phone-number:value = '+4930123456789']",
    ]);
    for (const [i, indicator] of indicators.entries()) {
      const { type, value } = OBSERVABLES[i]!;
      expect(indicator).toMatchObject({
        spec_version: '2.1',
        created: NOW.toISOString(),
        modified: NOW.toISOString(),
        created_by_ref: IDENTITY_ID,
        pattern_type: 'stix',
        valid_from: '2025-03-01T08:00:00.000Z',
        name: `${type} ${value}`,
      });
    }
  });

  it('escapes backslashes before quotes inside pattern literals', () => {
    expect(observablePattern({ type: 'url', value: "http://example.com/a\\'b" })).toBe(
      "[url:value = 'http://example.com/a\\\\\\'b']",
    );
  });

  it('links every indicator to the incident with one indicates relationship', () => {
    const bundle = exportFixture();
    const incident = only(bundle, 'incident');
    const indicators = ofType(bundle, 'indicator');
    const relationships: StixRelationship[] = ofType(bundle, 'relationship');
    expect(relationships).toHaveLength(indicators.length);
    expect(relationships.map((r) => r.source_ref).sort()).toEqual(indicators.map((i) => i.id).sort());
    for (const relationship of relationships) {
      expect(relationship).toMatchObject({
        spec_version: '2.1',
        relationship_type: 'indicates',
        target_ref: incident.id,
        created_by_ref: IDENTITY_ID,
        created: NOW.toISOString(),
        modified: NOW.toISOString(),
      });
    }
  });

  it('marks every object but the identity and the marking with the incident label, which the bundle carries', () => {
    const bundle = exportFixture({ tlp: 'RED' });
    const carried = new Set(ofType(bundle, 'marking-definition').map((m) => m.id));
    for (const object of bundle.objects) {
      if (object.type === 'identity' || object.type === 'marking-definition') {
        expect(object).not.toHaveProperty('object_marking_refs');
        continue;
      }
      expect(object.object_marking_refs).toEqual([TLP_MARKING_IDS.RED]);
      expect(object.object_marking_refs.every((ref) => carried.has(ref))).toBe(true);
    }
  });

  it('gives every object an id of its own type and a UUID, each id once', () => {
    const bundle = exportFixture();
    const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
    for (const { type, id } of bundle.objects) {
      expect(id.startsWith(`${type}--`)).toBe(true);
      expect(id.slice(type.length + 2)).toMatch(uuid);
    }
    const ids = bundle.objects.map((o) => o.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(bundle.objects).toHaveLength(3 + 2 * OBSERVABLES.length);
  });

  it('is plain JSON and deterministic for the same inputs', () => {
    const bundle = exportFixture();
    expect(JSON.parse(JSON.stringify(bundle))).toStrictEqual(bundle);
    expect(exportFixture()).toStrictEqual(bundle);
  });
});
