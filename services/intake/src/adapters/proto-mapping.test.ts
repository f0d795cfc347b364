import { describe, expect, it } from 'vitest';
import { NCISS_BASELINE } from '@beacon/domain';
import { eventsV1, intakeV1 } from '@beacon/proto';
import type { Report } from '../domain/incident.js';
import {
  attachReport,
  disengageAgency,
  engageAgency,
  openFromReport,
  rescore,
  transition,
} from '../domain/rules.js';
import { encodeEvent, incidentToProto, reportToProto } from './proto-mapping.js';

const NOW = new Date('2026-01-02T03:04:05.000Z');

const report = (id: string, affectedAssets: Report['affectedAssets']): Report => ({
  id,
  incidentId: 'inc_1',
  reporterAgencyId: 'cert-de',
  title: 'Ransomware at a water utility',
  description: '',
  tlp: 'AMBER',
  classification: { rsitClass: 'malicious-code', rsitType: 'infected-system' },
  sectors: [],
  jurisdictions: [],
  observables: [],
  affectedAssets,
  awareAt: NOW,
  submittedAt: NOW,
});

/** The incident carried by an encoded event, decoded as a consumer would. */
function incidentOf(data: Uint8Array): intakeV1.Incident | undefined {
  const envelope = eventsV1.Envelope.decode(data);
  const decoders: Record<string, (bytes: Uint8Array) => { incident?: intakeV1.Incident }> = {
    'beacon.intake.v1.IncidentOpened': (b) => intakeV1.IncidentOpened.decode(b),
    'beacon.intake.v1.ReportAttached': (b) => intakeV1.ReportAttached.decode(b),
    'beacon.intake.v1.SeverityChanged': (b) => intakeV1.SeverityChanged.decode(b),
    'beacon.intake.v1.StatusChanged': (b) => intakeV1.StatusChanged.decode(b),
    'beacon.intake.v1.AgencyAssigned': (b) => intakeV1.AgencyAssigned.decode(b),
    'beacon.intake.v1.AgencyUnassigned': (b) => intakeV1.AgencyUnassigned.decode(b),
    'beacon.intake.v1.IncidentResolved': (b) => intakeV1.IncidentResolved.decode(b),
  };
  return decoders[envelope.dataschema]?.(envelope.data).incident;
}

describe('affected assets on the wire', () => {
  it('map to and from the incident and report messages', () => {
    const opened = openFromReport(report('rep_1', [{ assetId: 'pump-1', loss: 0.5 }]), 'inc_1', NOW);
    const wire = intakeV1.Incident.decode(
      intakeV1.Incident.encode(incidentToProto(opened.incident)).finish(),
    );
    expect(wire.affectedAssets).toEqual([{ assetId: 'pump-1', loss: 0.5 }]);
    expect(reportToProto(report('rep_1', [{ assetId: 'grid-1', loss: 1 }])).affectedAssets).toEqual([
      { assetId: 'grid-1', loss: 1 },
    ]);
    expect(intakeV1.Incident.toJSON(wire)).toMatchObject({
      affectedAssets: [{ assetId: 'pump-1', loss: 0.5 }],
    });
  });

  it('travel in every event that carries the incident', () => {
    const opened = openFromReport(report('rep_1', [{ assetId: 'pump-1', loss: 0.5 }]), 'inc_1', NOW);
    const attached = attachReport(
      opened.incident,
      report('rep_2', [
        { assetId: 'pump-1', loss: 0.9 },
        { assetId: 'dam-1', loss: 0.2 },
      ]),
      NOW,
      false,
    );
    const rescored = rescore(
      attached.incident,
      { ...NCISS_BASELINE, functionalImpact: 'denial-critical' },
      NOW,
    );
    const engaged = engageAgency(rescored.incident, 'police-by', NOW);
    const disengaged = disengageAgency(
      engageAgency(engaged.incident, 'cert-fr', NOW).incident,
      'cert-fr',
      NOW,
    );
    const active = transition(disengaged.incident, 'active', '', NOW);
    const resolved = transition(active.incident, 'resolved', 'fixed', NOW);
    const events = [attached, rescored, engaged, disengaged, active, resolved].flatMap((c) => c.events);
    const kinds = new Set(events.map((e) => e.kind));
    expect([...kinds].sort()).toEqual(
      [
        'reported',
        'report-attached',
        'severity-changed',
        'agency-assigned',
        'agency-unassigned',
        'status-changed',
        'resolved',
      ].sort(),
    );
    const expected = [
      { assetId: 'pump-1', loss: 0.9 },
      { assetId: 'dam-1', loss: 0.2 },
    ];
    expect(incidentOf(encodeEvent(opened.events[1]!, { id: 'e0', time: NOW }).data)?.affectedAssets).toEqual([
      { assetId: 'pump-1', loss: 0.5 },
    ]);
    for (const [i, event] of events.entries()) {
      if (event.kind === 'reported') continue;
      expect(
        incidentOf(encodeEvent(event, { id: `e${i + 1}`, time: NOW }).data)?.affectedAssets,
        event.kind,
      ).toEqual(expected);
    }
    // The report's own event carries the assets it named.
    const reported = events.find((e) => e.kind === 'reported')!;
    const envelope = eventsV1.Envelope.decode(encodeEvent(reported, { id: 'r', time: NOW }).data);
    expect(intakeV1.IncidentReported.decode(envelope.data).report?.affectedAssets).toEqual([
      { assetId: 'pump-1', loss: 0.9 },
      { assetId: 'dam-1', loss: 0.2 },
    ]);
  });
});

describe('observables on the wire', () => {
  it('carry the reported form where there is one, in the report, the incident and their events', () => {
    const defanged = {
      type: 'url' as const,
      value: 'https://evil.example.com/login',
      reported: 'hxxps://evil[.]example[.]com/login',
    };
    const plain = { type: 'ipv4' as const, value: '192.0.2.1' };
    const filed = { ...report('rep_1', []), observables: [defanged, plain] };
    const opened = openFromReport(filed, 'inc_1', NOW);

    const wire = intakeV1.Incident.decode(
      intakeV1.Incident.encode(incidentToProto(opened.incident)).finish(),
    );
    expect(wire.observables).toEqual([defanged, { ...plain, reported: undefined }]);
    // In JSON, a value reported as it is written has no `reported` at all.
    expect(intakeV1.Incident.toJSON(wire)).toMatchObject({ observables: [defanged, plain] });
    expect((intakeV1.Incident.toJSON(wire) as { observables: object[] }).observables[1]).not.toHaveProperty(
      'reported',
    );
    expect(reportToProto(filed).observables).toEqual([defanged, plain]);

    const [reported, openedEvent] = opened.events.map((e) =>
      eventsV1.Envelope.decode(encodeEvent(e, { id: 'evt_1', time: NOW }).data),
    );
    expect(intakeV1.IncidentReported.decode(reported!.data).report?.observables[0]).toEqual(defanged);
    expect(intakeV1.IncidentOpened.decode(openedEvent!.data).incident?.observables[0]).toEqual(defanged);
  });
});
