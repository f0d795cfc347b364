import { describe, expect, test } from 'vitest';
import type { DigestNotification, EventNotification } from '../../app/channel-delivery.js';
import { escapeHtml, renderEmail } from './email-render.js';

const event: EventNotification['event'] = {
  id: 'e1',
  type: 'beacon.incident.opened.v1',
  source: 'beacon/intake',
  subject: 'a<b>&"c"\r\nBcc: victim@example.org',
  time: new Date('2026-01-02T03:04:05Z'),
  tlp: 'AMBER',
  incidentId: 'i1',
  datacontenttype: 'application/protobuf',
  dataschema: 'beacon.intake.v1.IncidentOpened',
  data: new Uint8Array(),
};

describe('renderEmail', () => {
  test('shows the acknowledgement link it is given, escaped in HTML', () => {
    const url = 'https://beacon.example/ack?agency=a&incident=inc_1';
    const mail = renderEmail({ kind: 'event', agencyId: 'a', key: 'e1.a', event, feedSequence: 9 }, url);
    expect(mail.text).toContain(url);
    expect(mail.html).toContain('agency=a&amp;incident=inc_1');
  });

  test('an event: TLP first in the subject, values escaped in HTML, no line breaks smuggled', () => {
    const mail = renderEmail({ kind: 'event', agencyId: 'a', key: 'e1.a', event, feedSequence: 9 });
    expect(mail.subject).toBe('[TLP:AMBER] beacon.incident.opened.v1 on incident i1');
    expect(mail.text).toContain('Subject: a<b>&"c" Bcc: victim@example.org');
    expect(mail.text).toContain('Feed sequence: 9');
    expect(mail.html).toContain('a&lt;b&gt;&amp;&quot;c&quot;');
    expect(mail.html).not.toContain('<b>');
  });

  test('a digest: the most restrictive label, a count with the omitted ones, each event listed', () => {
    const digest: DigestNotification = {
      kind: 'digest',
      agencyId: 'a',
      key: 'digest:a:i1:0',
      incidentId: 'i\n1',
      tlp: 'RED',
      windowStart: new Date(0),
      windowEnd: new Date(60_000),
      events: [
        { event, feedSequence: 1 },
        { event: { ...event, id: 'e2', tlp: 'RED' }, feedSequence: 2 },
      ],
      omitted: 3,
    };
    const mail = renderEmail(digest);
    expect(mail.subject).toBe('[TLP:RED] Digest: 5 events on incident i 1');
    expect(mail.text).toMatch(/^TLP:RED: For the named recipients only/);
    expect(mail.text).toContain('3 more events are not listed here');
    expect(mail.html.match(/<li>/g)).toHaveLength(2);
  });

  test('escapeHtml covers element content and quoted attributes', () => {
    expect(escapeHtml(`<a href='x' title="y">&</a>`)).toBe(
      '&lt;a href=&#39;x&#39; title=&quot;y&quot;&gt;&amp;&lt;/a&gt;',
    );
  });
});
