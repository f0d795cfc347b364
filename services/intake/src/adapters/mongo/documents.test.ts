import { describe, expect, it } from 'vitest';
import type { Report } from '../../domain/incident.js';
import { attachReport, openFromReport } from '../../domain/rules.js';
import {
  incidentFields,
  incidentFromDoc,
  reportFromDoc,
  reportToDoc,
  type IncidentDoc,
} from './documents.js';

const NOW = new Date('2026-01-02T03:04:05.000Z');
const REPORT: Report = {
  id: 'rep_1',
  incidentId: 'inc_1',
  reporterAgencyId: 'cert-de',
  title: 'Ransomware at a water utility',
  description: '',
  tlp: 'AMBER',
  classification: { rsitClass: 'malicious-code', rsitType: 'infected-system' },
  sectors: [],
  jurisdictions: [],
  observables: [],
  affectedAssets: [
    { assetId: 'pump-1', loss: 0.5 },
    { assetId: 'grid-1', loss: 1 },
  ],
  awareAt: NOW,
  submittedAt: NOW,
};

const AUDIT = {
  actor: 'analyst-1',
  agencyId: 'cert-de',
  action: 'report.submitted',
  objectId: 'rep_1',
  tlp: 'AMBER',
  at: NOW,
};

describe('affected assets in documents', () => {
  it('are stored and read back with reports and incidents', () => {
    const plan = { incidentId: 'inc_1', opensIncident: true };
    const doc = reportToDoc(REPORT, plan, AUDIT);
    expect(doc.affectedAssets).toEqual(REPORT.affectedAssets);
    expect(reportFromDoc(doc).report).toEqual(REPORT);
    // The submission's audit record travels with the report until it is linked.
    expect(reportFromDoc(doc).audit).toEqual(AUDIT);
    expect(
      reportFromDoc({ ...doc, audit: { ...doc.audit!, agencyId: null } }).audit?.agencyId,
    ).toBeUndefined();

    const { incident } = openFromReport(REPORT, 'inc_1', NOW);
    const stored: IncidentDoc = { _id: incident.id, ...incidentFields(incident), outbox: {} };
    expect(stored.affectedAssets).toEqual(REPORT.affectedAssets);
    expect(incidentFromDoc(stored)).toEqual(incident);
  });

  it('read as none from documents stored before intake recorded them', () => {
    const plan = { incidentId: 'inc_1', opensIncident: true };
    const { affectedAssets: _report, ...oldReport } = reportToDoc(REPORT, plan, AUDIT);
    expect(reportFromDoc(oldReport).report.affectedAssets).toEqual([]);
    const { incident } = openFromReport(REPORT, 'inc_1', NOW);
    const { affectedAssets: _incident, ...oldIncident } = incidentFields(incident);
    expect(incidentFromDoc({ _id: incident.id, ...oldIncident, outbox: {} }).affectedAssets).toEqual([]);
  });
});

describe('observables in documents', () => {
  it('keep the reported form beside the canonical value, and store none where there was none', () => {
    const observables = [
      {
        type: 'url' as const,
        value: 'https://evil.example.com/login',
        reported: 'hxxps://evil[.]example[.]com/login',
      },
      { type: 'ipv4' as const, value: '192.0.2.1' },
    ];
    const report = { ...REPORT, observables };
    const doc = reportToDoc(report, { incidentId: 'inc_1', opensIncident: true }, AUDIT);
    expect(doc.observables).toEqual(observables);
    expect(Object.keys(doc.observables[1]!)).toEqual(['type', 'value']);
    expect(reportFromDoc(doc).report.observables).toEqual(observables);

    const { incident } = openFromReport(report, 'inc_1', NOW);
    const fields = incidentFields(incident);
    expect(fields.observables.map((o) => o.reported)).toEqual([
      'hxxps://evil[.]example[.]com/login',
      undefined,
    ]);
    expect('reported' in fields.observables[1]!).toBe(false);
    expect(incidentFromDoc({ _id: incident.id, ...fields, outbox: {} }).observables).toEqual(
      incident.observables,
    );
  });
});

describe('severity in documents', () => {
  it('keeps the reporter’s inputs, every input’s origin and other agencies’ proposals', () => {
    const report: Report = {
      ...REPORT,
      severityInputs: { functionalImpact: 'denial-critical', location: 'critical-systems' },
    };
    const plan = { incidentId: 'inc_1', opensIncident: true };
    const doc = reportToDoc(report, plan, AUDIT);
    expect(doc.severityInputs).toEqual(report.severityInputs);
    expect(reportFromDoc(doc).report).toEqual(report);
    expect('severityInputs' in reportToDoc(REPORT, plan, AUDIT)).toBe(false);

    const opened = openFromReport(report, 'inc_1', NOW).incident;
    const { incident } = attachReport(
      opened,
      { ...report, id: 'rep_2', reporterAgencyId: undefined, severityInputs: { actor: 'nation-state' } },
      NOW,
      false,
    );
    const fields = incidentFields(incident);
    expect(fields.severityOrigins?.['functionalImpact']).toEqual({
      source: 'reporter',
      agencyId: 'cert-de',
      reportId: 'rep_1',
      at: NOW,
    });
    // Filed by the coordination centre: no agency, and no `undefined` stored for one.
    expect(fields.severityProposals).toEqual([
      { reportId: 'rep_2', inputs: { actor: 'nation-state' }, at: NOW },
    ]);
    expect(incidentFromDoc({ _id: incident.id, ...fields, outbox: {} })).toEqual(incident);
  });

  it('reads no origins and no proposals from documents stored before intake kept them', () => {
    const { incident } = openFromReport(REPORT, 'inc_1', NOW);
    const { severityOrigins: _o, severityProposals: _p, ...old } = incidentFields(incident);
    const read = incidentFromDoc({ _id: incident.id, ...old, outbox: {} });
    expect(read.severityOrigins).toEqual({});
    expect(read.severityProposals).toEqual([]);
  });
});
