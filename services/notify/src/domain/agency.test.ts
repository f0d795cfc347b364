import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type AgencyInput,
  agencyProblems,
  maxActiveAtOnce,
  parseAgency,
  type WebhookSecret,
} from './agency.js';

const SECRET = 'x'.repeat(32);

const valid: AgencyInput = {
  id: 'cert-bund',
  name: 'CERT-Bund',
  kind: 'csirt',
  jurisdictions: ['DE'],
  sectors: ['energy', 'water-and-wastewater'],
  clearance: 'AMBER',
  contacts: [
    { role: 'duty-officer', name: 'Duty desk', phone: '+4922899582000' },
    { role: 'deputy', name: 'A. Deputy', email: 'deputy@cert-bund.example' },
    { role: 'head', name: 'B. Head', email: 'head@cert-bund.example' },
  ],
  channels: {
    webhook: { url: 'https://hooks.cert-bund.example/beacon', secrets: [{ id: 'k1', secret: SECRET }] },
    email: { to: ['soc@cert-bund.example'] },
  },
  engagedIncidentIds: ['inc-1'],
};

const fields = (agency: AgencyInput) => agencyProblems(agency).map((p) => p.field);
const at = (iso: string) => new Date(iso);

describe('agencyProblems', () => {
  it('finds nothing wrong with a complete agency, and parses it', () => {
    expect(agencyProblems(valid)).toEqual([]);
    expect(parseAgency(valid)).toEqual({ ok: true, agency: valid });
  });

  it('holds ids to what a NATS subject token may be', () => {
    for (const id of ['a', 'cert-bund', '0day-team', 'x'.repeat(63)])
      expect(fields({ ...valid, id }), id).toEqual([]);
    for (const id of [
      '',
      '-cert',
      'CERT',
      'cert.bund',
      'cert_bund',
      'cert>',
      'cert*',
      'x'.repeat(64),
      'ćert',
    ]) {
      expect(fields({ ...valid, id }), id).toEqual(['id']);
    }
  });

  it('checks name, kind and clearance', () => {
    expect(fields({ ...valid, name: '  ' })).toEqual(['name']);
    expect(fields({ ...valid, name: 'n'.repeat(201) })).toEqual(['name']);
    expect(fields({ ...valid, kind: 'army' })).toEqual(['kind']);
    expect(fields({ ...valid, clearance: 'WHITE' })).toEqual(['clearance']);
    expect(fields({ ...valid, clearance: 'AMBER+STRICT' })).toEqual([]);
  });

  it('takes canonical ISO 3166 jurisdictions and CISA sectors, each once, within limits', () => {
    expect(fields({ ...valid, jurisdictions: ['DE', 'DE-BY', 'FR'] })).toEqual([]);
    expect(fields({ ...valid, jurisdictions: ['de', 'XX', 'DE', 'DE'] })).toEqual([
      'jurisdictions[0]',
      'jurisdictions[1]',
      'jurisdictions[3]',
    ]);
    const twentyOne = 'AT BE BG HR CY CZ DK EE FI FR DE GR HU IE IT LV LT LU MT NL PL'.split(' ');
    expect(fields({ ...valid, jurisdictions: twentyOne })).toEqual(['jurisdictions']);
    expect(fields({ ...valid, jurisdictions: twentyOne.slice(0, 20) })).toEqual([]);
    expect(fields({ ...valid, sectors: ['energy', 'space', 'energy'] })).toEqual([
      'sectors[1]',
      'sectors[2]',
    ]);
  });

  it('wants an escalation chain of one to ten reachable contacts that never steps down', () => {
    expect(fields({ ...valid, contacts: [] })).toEqual(['contacts']);
    const duty = { role: 'duty-officer', name: 'Desk', phone: '+4930123456' };
    expect(fields({ ...valid, contacts: Array(10).fill(duty) })).toEqual([]);
    expect(fields({ ...valid, contacts: Array(11).fill(duty) })).toEqual(['contacts']);
    expect(
      fields({
        ...valid,
        contacts: [
          { role: 'head', name: 'Head', email: 'h@x.example' },
          { role: 'duty-officer', name: 'Desk', email: 'd@x.example' },
        ],
      }),
    ).toEqual(['contacts[1].role']);
    expect(
      fields({
        ...valid,
        contacts: [
          duty,
          { role: 'duty-officer', name: 'Desk 2', email: 'd2@x.example' },
          { role: 'national-spoc', name: 'SPOC', phone: '+4930999999' },
        ],
      }),
    ).toEqual([]);
    expect(
      fields({
        ...valid,
        contacts: [
          { role: 'janitor', name: 'J', email: 'j@x.example' },
          { role: 'deputy', name: '', email: 'not-an-email' },
          { role: 'head', name: 'H' },
          { role: 'head', name: 'H', phone: '030 123456' },
        ],
      }),
    ).toEqual([
      'contacts[0].role',
      'contacts[1].name',
      'contacts[1].email',
      'contacts[2]',
      'contacts[3].phone',
    ]);
  });

  it('checks the e-mail channel: one to ten valid, distinct recipients', () => {
    const email = (to: string[]) => fields({ ...valid, channels: { email: { to } } });
    expect(email([])).toEqual(['channels.email.to']);
    expect(email(['a@x.example', 'nope', 'a@x.example'])).toEqual([
      'channels.email.to[1]',
      'channels.email.to[2]',
    ]);
    expect(email(Array.from({ length: 10 }, (_, i) => `r${i}@x.example`))).toEqual([]);
    expect(email(Array.from({ length: 11 }, (_, i) => `r${i}@x.example`))).toEqual(['channels.email.to']);
  });

  it('refuses a webhook URL naming a loopback, private or metadata IP literal unless its block is allowed', () => {
    const url = (webhookUrl: string, allow: string[] = []) =>
      agencyProblems(
        { ...valid, channels: { webhook: { url: webhookUrl, secrets: [{ id: 'k1', secret: SECRET }] } } },
        { webhookAllow: allow },
      );
    expect(url('http://127.0.0.1:8080/hook')).toEqual([
      { field: 'channels.webhook.url', message: '127.0.0.1 is loopback' },
    ]);
    expect(url('http://127.0.0.1:8080/hook', ['127.0.0.0/8'])).toEqual([]);
    // A metadata address stays refused even inside an allowed block.
    expect(url('http://169.254.169.254/', ['169.254.0.0/16'])).toEqual([
      { field: 'channels.webhook.url', message: '169.254.169.254 is cloud metadata, never allowed' },
    ]);
    // A host name is judged at delivery, when it has been resolved.
    expect(url('https://hooks.example.org/beacon')).toEqual([]);
  });

  it('refuses control characters in the agency’s name and its contacts’ names, naming the field', () => {
    expect(
      agencyProblems({
        ...valid,
        name: 'CERT\r\nBcc: everyone',
        contacts: [{ ...valid.contacts[0]!, name: 'Duty\u202eofficer' }],
      }),
    ).toEqual([
      { field: 'name', message: 'contains a control character (U+000D at position 4)' },
      { field: 'contacts[0].name', message: 'contains a control character (U+202E at position 4)' },
    ]);
  });

  it('checks the webhook URL and its secrets without ever quoting a secret', () => {
    const webhook = (url: string, secrets: WebhookSecret[]) =>
      agencyProblems({ ...valid, channels: { webhook: { url, secrets } } });
    expect(webhook('ftp://x.example/', [{ id: 'k1', secret: SECRET }]).map((p) => p.field)).toEqual([
      'channels.webhook.url',
    ]);
    expect(webhook('https://x.example/', []).map((p) => p.field)).toEqual(['channels.webhook.secrets']);
    const short = 'short-but-secret';
    const problems = webhook('https://x.example/', [
      { id: 'k1', secret: short },
      { id: 'k1', secret: SECRET },
      { id: 'bad id', secret: SECRET },
      {
        id: 'k3',
        secret: SECRET,
        notBefore: at('2026-02-01T00:00:00Z'),
        notAfter: at('2026-01-01T00:00:00Z'),
      },
    ]);
    expect(problems.map((p) => p.field)).toEqual([
      'channels.webhook.secrets[0].secret',
      'channels.webhook.secrets[1].id',
      'channels.webhook.secrets[2].id',
      'channels.webhook.secrets[3].notAfter',
    ]);
    expect(JSON.stringify(problems)).not.toContain(short);
    expect(
      webhook('https://x.example/', [{ id: 'k1', secret: 's'.repeat(513) }]).map((p) => p.field),
    ).toEqual(['channels.webhook.secrets[0].secret']);
  });

  it('allows at most three secrets active at any one moment, whenever that is', () => {
    const window = (id: string, from?: string, to?: string): WebhookSecret => ({
      id,
      secret: SECRET,
      ...(from && { notBefore: at(from) }),
      ...(to && { notAfter: at(to) }),
    });
    const webhook = (secrets: WebhookSecret[]) =>
      fields({ ...valid, channels: { webhook: { url: 'https://x.example/', secrets } } });
    // Four secrets, but a clean rotation: never more than two at once.
    expect(
      webhook([
        window('k1', undefined, '2026-03-01'),
        window('k2', '2026-02-01', '2026-05-01'),
        window('k3', '2026-04-01', '2026-07-01'),
        window('k4', '2026-06-01'),
      ]),
    ).toEqual([]);
    // Four open-ended secrets are all active together.
    expect(webhook([window('k1'), window('k2'), window('k3'), window('k4')])).toEqual([
      'channels.webhook.secrets',
    ]);
    // A future overlap counts too.
    expect(
      webhook([
        window('k1'),
        window('k2'),
        window('k3', '2027-01-01'),
        window('k4', '2027-01-01', '2027-02-01'),
      ]),
    ).toEqual(['channels.webhook.secrets']);
    expect(
      webhook(
        Array.from({ length: 11 }, (_, i) => window(`k${i}`, `${2000 + i}-01-01`, `${2000 + i}-06-01`)),
      ),
    ).toEqual(['channels.webhook.secrets']);
  });
});

describe('maxActiveAtOnce', () => {
  it('treats validity as half-open: a hand-over at one instant is not an overlap', () => {
    expect(
      maxActiveAtOnce([
        { id: 'a', secret: SECRET, notAfter: at('2026-01-01') },
        { id: 'b', secret: SECRET, notBefore: at('2026-01-01') },
      ]),
    ).toBe(1);
    expect(maxActiveAtOnce([])).toBe(0);
    expect(
      maxActiveAtOnce([{ id: 'a', secret: SECRET, notBefore: at('2026-01-02'), notAfter: at('2026-01-01') }]),
    ).toBe(0);
  });

  it('equals the count of secrets active at the busiest instant', () => {
    const secret = fc
      .tuple(
        fc.option(fc.integer({ min: 0, max: 20 }), { nil: undefined }),
        fc.option(fc.integer({ min: 0, max: 20 }), { nil: undefined }),
      )
      .map(([from, to]): WebhookSecret => ({
        id: 'k',
        secret: SECRET,
        ...(from !== undefined && { notBefore: new Date(from) }),
        ...(to !== undefined && { notAfter: new Date(to) }),
      }));
    fc.assert(
      fc.property(fc.array(secret, { maxLength: 8 }), (secrets) => {
        // Every change happens at a whole millisecond 0..20, so probing -1..20 sees every state.
        let busiest = 0;
        for (let t = -1; t <= 20; t++) {
          const active = secrets.filter(
            (s) => (s.notBefore?.getTime() ?? -Infinity) <= t && t < (s.notAfter?.getTime() ?? Infinity),
          ).length;
          busiest = Math.max(busiest, active);
        }
        expect(maxActiveAtOnce(secrets)).toBe(busiest);
      }),
    );
  });
});
