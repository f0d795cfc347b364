/**
 * Export of an incident as a STIX 2.1 bundle, for partners whose tooling (MISP, OpenCTI, TIPs)
 * speaks STIX rather than Beacon's API. Pure: ids and the clock are injected, so the same
 * inputs always give the same bundle.
 */
import type { Observable, Tlp } from '@beacon/domain';
import type { Incident, IncidentStatus } from './incident.js';

/** The STIX TLP 2.0 extension every TLP 2.0 marking-definition declares itself through. */
export const TLP_EXTENSION_DEFINITION_ID = 'extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d';

/** The OASIS Incident Core extension, which gives `incident` its determination and status. */
export const INCIDENT_CORE_EXTENSION_ID = 'extension-definition--ef765651-680c-498d-9894-99799f2fa126';

/**
 * The published ids of the TLP 2.0 marking-definitions. They are fixed by OASIS, not generated:
 * consumers recognise a label by its id, so a wrong one makes the marking meaningless to them.
 */
export const TLP_MARKING_IDS: Readonly<Record<Tlp, string>> = {
  CLEAR: 'marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487',
  GREEN: 'marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb',
  AMBER: 'marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421',
  'AMBER+STRICT': 'marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003',
  RED: 'marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1',
};

/** Part of the published marking objects, like their ids; not the time of any export. */
const TLP_MARKINGS_CREATED = '2022-10-01T00:00:00.000Z';

export interface StixMarkingDefinition {
  readonly type: 'marking-definition';
  readonly spec_version: '2.1';
  readonly id: string;
  readonly created: string;
  readonly name: string;
  readonly extensions: {
    readonly [TLP_EXTENSION_DEFINITION_ID]: {
      readonly extension_type: 'property-extension';
      readonly tlp_2_0: string;
    };
  };
}

export interface StixIdentity {
  readonly type: 'identity';
  readonly spec_version: '2.1';
  readonly id: string;
  readonly created: string;
  readonly modified: string;
  readonly name: string;
  readonly identity_class: 'organization';
}

export interface StixExternalReference {
  readonly source_name: string;
  readonly external_id: string;
}

export type StixIncidentDetermination = 'confirmed' | 'suspected';
export type StixInvestigationStatus = 'new' | 'open' | 'closed';

/**
 * The common properties (STIX 2.1 section 3.2) of the objects a bundle carries as its
 * producer's, each under the incident's TLP marking.
 */
export interface StixCreatedObject<T extends string> {
  readonly type: T;
  readonly spec_version: '2.1';
  readonly id: string;
  readonly created: string;
  readonly modified: string;
  readonly created_by_ref: string;
  readonly object_marking_refs: readonly string[];
}

export interface StixIncident extends StixCreatedObject<'incident'> {
  readonly name: string;
  readonly labels: readonly string[];
  readonly external_references: readonly StixExternalReference[];
  readonly extensions: {
    readonly [INCIDENT_CORE_EXTENSION_ID]: {
      readonly extension_type: 'property-extension';
      readonly determination: StixIncidentDetermination;
      readonly investigation_status: StixInvestigationStatus;
    };
  };
  readonly x_beacon_nciss: { readonly score: number; readonly level: number; readonly level_name: string };
  /** Absent when empty: STIX 2.1 forbids empty lists. */
  readonly x_beacon_sectors?: readonly string[];
  /** Absent when empty: STIX 2.1 forbids empty lists. */
  readonly x_beacon_jurisdictions?: readonly string[];
}

export interface StixIndicator extends StixCreatedObject<'indicator'> {
  readonly name: string;
  readonly pattern: string;
  readonly pattern_type: 'stix';
  readonly valid_from: string;
}

export interface StixRelationship extends StixCreatedObject<'relationship'> {
  readonly relationship_type: 'indicates';
  readonly source_ref: string;
  readonly target_ref: string;
}

export type StixObject =
  StixIdentity | StixMarkingDefinition | StixIncident | StixIndicator | StixRelationship;

export interface StixBundle {
  readonly type: 'bundle';
  readonly id: string;
  readonly objects: readonly StixObject[];
}

export interface StixExportOptions {
  /** The exporting organisation's name, as recipients should see it. */
  readonly identityName: string;
  /** `identity--<uuid>`; stable across exports so recipients can tie bundles to one producer. */
  readonly identityId: string;
  readonly now: Date;
  /** A fresh random (v4) UUID per call, without the `type--` prefix. */
  readonly uuid: () => string;
}

/** The TLP 2.0 marking-definition object for a label, exactly as OASIS publishes it. */
export function tlpMarkingDefinition(tlp: Tlp): StixMarkingDefinition {
  return {
    type: 'marking-definition',
    spec_version: '2.1',
    id: TLP_MARKING_IDS[tlp],
    created: TLP_MARKINGS_CREATED,
    name: `TLP:${tlp}`,
    extensions: {
      [TLP_EXTENSION_DEFINITION_ID]: { extension_type: 'property-extension', tlp_2_0: tlp.toLowerCase() },
    },
  };
}

/**
 * Until triage ends Beacon has only the reporters' word that anything happened, so the incident
 * is suspected; once someone has worked it, it is taken as confirmed.
 */
const DETERMINATIONS: Readonly<Record<IncidentStatus, StixIncidentDetermination>> = {
  reported: 'suspected',
  triage: 'suspected',
  active: 'confirmed',
  contained: 'confirmed',
  resolved: 'confirmed',
  closed: 'confirmed',
};

const INVESTIGATION_STATUSES: Readonly<Record<IncidentStatus, StixInvestigationStatus>> = {
  reported: 'new',
  triage: 'new',
  active: 'open',
  contained: 'open',
  resolved: 'closed',
  closed: 'closed',
};

/** A STIX patterning string literal: only `\` and `'` need escaping inside single quotes. */
function literal(value: string): string {
  return `'${value.replace(/[\\']/g, '\\$&')}'`;
}

/**
 * The STIX pattern matching an observable. Values arrive normalised, so they go into the
 * pattern as they are.
 */
export function observablePattern(observable: Observable): string {
  const value = literal(observable.value);
  switch (observable.type) {
    case 'ipv4':
      return `[ipv4-addr:value = ${value}]`;
    case 'ipv6':
      return `[ipv6-addr:value = ${value}]`;
    case 'cidr':
      // `ipv4-addr` and `ipv6-addr` values may be CIDR blocks; a colon only occurs in IPv6.
      return `[${observable.value.includes(':') ? 'ipv6-addr' : 'ipv4-addr'}:value = ${value}]`;
    case 'domain':
      return `[domain-name:value = ${value}]`;
    case 'url':
      return `[url:value = ${value}]`;
    case 'email':
      return `[email-addr:value = ${value}]`;
    case 'md5':
      return `[file:hashes.'MD5' = ${value}]`;
    case 'sha1':
      return `[file:hashes.'SHA-1' = ${value}]`;
    case 'sha256':
      return `[file:hashes.'SHA-256' = ${value}]`;
    // STIX 2.1 defines no cyber-observable for wallets or phone numbers, so these patterns name
    // Beacon's own object types: a consumer that does not know them can still keep and show the
    // indicator, but will not match it against its own data. The wallet keeps its `chain:`
    // prefix because the same address text can mean different wallets on different chains.
    case 'crypto-wallet':
      return `[x-beacon-crypto-wallet:value = ${value}]`;
    case 'phone':
      return `[x-beacon-phone-number:value = ${value}]`;
  }
}

/**
 * The incident as a STIX 2.1 bundle: the exporter's identity, the incident's TLP 2.0 marking,
 * the incident (with the Incident Core extension), one indicator per observable and an
 * `indicates` relationship from each indicator to the incident. Everything but the identity
 * and the marking itself carries the incident's marking, indicators included: an observable's
 * own label is never more restrictive than the incident's, and the bundle ties each indicator to
 * the incident, so a wider label on one would let recipients re-share what it shows about the
 * incident. Export only what the recipient may read (`canReadIncident`).
 *
 * Calls `options.uuid` once for the bundle, once for the incident, then twice per observable
 * (indicator, relationship), in observable order.
 */
export function exportIncidentStix(incident: Incident, options: StixExportOptions): StixBundle {
  const now = options.now.toISOString();
  const createdBy = options.identityId;
  const markings = [TLP_MARKING_IDS[incident.tlp]];
  const bundleId = `bundle--${options.uuid()}`;
  const incidentId = `incident--${options.uuid()}`;

  // Unmarked: the identity is one object shared by every export, whatever each one's label.
  const identity: StixIdentity = {
    type: 'identity',
    spec_version: '2.1',
    id: options.identityId,
    created: now,
    modified: now,
    name: options.identityName,
    identity_class: 'organization',
  };

  const stixIncident: StixIncident = {
    type: 'incident',
    spec_version: '2.1',
    id: incidentId,
    created: incident.openedAt.toISOString(),
    modified: incident.updatedAt.toISOString(),
    created_by_ref: createdBy,
    object_marking_refs: markings,
    name: incident.title,
    labels: [incident.classification.rsitClass, incident.classification.rsitType],
    external_references: [{ source_name: 'beacon', external_id: incident.id }],
    extensions: {
      // incident_types is left out: its vocabulary does not map onto RSIT, and an empty list is
      // not allowed. The RSIT classification travels in `labels` instead.
      [INCIDENT_CORE_EXTENSION_ID]: {
        extension_type: 'property-extension',
        determination: DETERMINATIONS[incident.status],
        investigation_status: INVESTIGATION_STATUSES[incident.status],
      },
    },
    x_beacon_nciss: {
      score: incident.severity.score,
      level: incident.severity.level,
      level_name: incident.severity.levelName,
    },
    ...(incident.sectors.length > 0 && { x_beacon_sectors: [...incident.sectors] }),
    ...(incident.jurisdictions.length > 0 && { x_beacon_jurisdictions: [...incident.jurisdictions] }),
  };

  const validFrom = incident.awareAt.toISOString();
  const indicators: StixIndicator[] = [];
  const relationships: StixRelationship[] = [];
  for (const observable of incident.observables) {
    const indicatorId = `indicator--${options.uuid()}`;
    indicators.push({
      type: 'indicator',
      spec_version: '2.1',
      id: indicatorId,
      created: now,
      modified: now,
      created_by_ref: createdBy,
      object_marking_refs: markings,
      name: `${observable.type} ${observable.value}`,
      pattern: observablePattern(observable),
      pattern_type: 'stix',
      valid_from: validFrom,
    });
    relationships.push({
      type: 'relationship',
      spec_version: '2.1',
      id: `relationship--${options.uuid()}`,
      created: now,
      modified: now,
      created_by_ref: createdBy,
      object_marking_refs: markings,
      relationship_type: 'indicates',
      source_ref: indicatorId,
      target_ref: incidentId,
    });
  }

  return {
    type: 'bundle',
    id: bundleId,
    objects: [identity, tlpMarkingDefinition(incident.tlp), stixIncident, ...indicators, ...relationships],
  };
}
