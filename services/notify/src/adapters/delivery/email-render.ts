import { formatTlp, type Tlp } from '@beacon/domain';
import type { Notification } from '../../app/channel-delivery.js';

export interface RenderedEmail {
  readonly subject: string;
  readonly text: string;
  readonly html: string;
}

/** What TLP 2.0 lets the recipient do with the mail, said in the mail itself. */
const TLP_GUIDANCE: Record<Tlp, string> = {
  CLEAR: 'Disclosure is not limited.',
  GREEN: 'Limited disclosure: share within your community, not on public channels.',
  AMBER: 'Limited disclosure: your organisation and its clients, on a need-to-know basis.',
  'AMBER+STRICT': 'Limited disclosure: your organisation only.',
  RED: 'For the named recipients only: do not forward.',
};

/** TLP 2.0's colours, for the label in the HTML part. */
const TLP_COLOUR: Record<Tlp, string> = {
  CLEAR: '#ffffff',
  GREEN: '#33ff00',
  AMBER: '#ffc000',
  'AMBER+STRICT': '#ffc000',
  RED: '#ff2b2b',
};

/**
 * The mail for a notification: the TLP label first in the subject (so it shows in every list
 * view), then what happened; a plain-text part and an HTML part with the same content. Every
 * value from an event is escaped in the HTML and stripped of line breaks in the subject.
 */
/** `ackUrl`: a signed link that acknowledges the agency's engagement on the incident. */
export function renderEmail(notification: Notification, ackUrl?: string): RenderedEmail {
  const rows: [string, string][] = [];
  let subject: string;
  let heading: string;
  let footer: string;
  let list: [string, string][][] = [];
  if (notification.kind === 'event') {
    const { event } = notification;
    const incident = event.incidentId ? ` on incident ${event.incidentId}` : '';
    subject = `[${formatTlp(event.tlp)}] ${event.type}${incident}`;
    heading = `Beacon event ${event.type}`;
    rows.push(
      ['TLP', formatTlp(event.tlp)],
      ['Incident', event.incidentId || '(none)'],
      ['Subject', event.subject],
      ['Time', event.time?.toISOString() ?? '(not given)'],
      ['Event id', event.id],
      ['Source', event.source],
      ['Feed sequence', String(notification.feedSequence)],
    );
    footer = `The full event is in your Beacon feed at sequence ${notification.feedSequence}.`;
    if (ackUrl) rows.push(['Acknowledge', ackUrl]);
  } else {
    const count = notification.events.length + notification.omitted;
    subject = `[${formatTlp(notification.tlp)}] Digest: ${count} event${count === 1 ? '' : 's'} on incident ${notification.incidentId}`;
    heading = `Beacon digest: ${count} events on incident ${notification.incidentId}`;
    rows.push(
      ['TLP', formatTlp(notification.tlp)],
      ['Incident', notification.incidentId],
      ['Window', `${notification.windowStart.toISOString()} to ${notification.windowEnd.toISOString()}`],
      ['Digest id', notification.key],
    );
    list = notification.events.map(({ event, feedSequence }) => [
      ['Feed sequence', String(feedSequence)],
      ['Time', event.time?.toISOString() ?? ''],
      ['TLP', formatTlp(event.tlp)],
      ['Type', event.type],
      ['Subject', event.subject],
    ]);
    footer =
      notification.omitted > 0
        ? `${notification.omitted} more events are not listed here; every event is in your Beacon feed.`
        : 'Every event is in your Beacon feed at the sequence listed.';
  }
  const tlp = notification.kind === 'event' ? notification.event.tlp : notification.tlp;
  const parts: EmailParts = { tlp, heading, rows, list, footer };
  return {
    subject: oneLine(subject),
    text: renderText(parts),
    html: renderHtml(parts),
  };
}

/** What an email says, before it is rendered as text or as HTML. */
interface EmailParts {
  readonly tlp: Tlp;
  readonly heading: string;
  /** Label and value, in order. */
  readonly rows: readonly [string, string][];
  /** The events of a digest, each as its rows. */
  readonly list: readonly [string, string][][];
  readonly footer: string;
}

function renderText({ tlp, heading, rows, list, footer }: EmailParts): string {
  const lines = [`${formatTlp(tlp)}: ${TLP_GUIDANCE[tlp]}`, '', heading, ''];
  for (const [label, value] of rows) lines.push(`${label}: ${oneLine(value)}`);
  for (const [i, entry] of list.entries()) {
    lines.push('', `Event ${i + 1}`);
    for (const [label, value] of entry) lines.push(`  ${label}: ${oneLine(value)}`);
  }
  lines.push('', footer, '');
  return lines.join('\n');
}

function renderHtml({ tlp, heading, rows, list, footer }: EmailParts): string {
  const table = (entries: readonly [string, string][]) =>
    `<table>${entries.map(([label, value]) => `<tr><th align="left">${escapeHtml(label)}</th><td>${escapeHtml(value)}</td></tr>`).join('')}</table>`;
  const events =
    list.length === 0 ? '' : `<ol>${list.map((entry) => `<li>${table(entry)}</li>`).join('')}</ol>`;
  return [
    '<!doctype html><html><body>',
    `<p><span style="background:#000;color:${TLP_COLOUR[tlp]};padding:2px 6px;font-weight:bold">${escapeHtml(formatTlp(tlp))}</span> ${escapeHtml(TLP_GUIDANCE[tlp])}</p>`,
    `<h1>${escapeHtml(heading)}</h1>`,
    table(rows),
    events,
    `<p>${escapeHtml(footer)}</p>`,
    '</body></html>',
  ].join('\n');
}

/** Escapes text for HTML element content and quoted attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => HTML_ESCAPES[c] ?? c);
}

const HTML_ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

function oneLine(text: string): string {
  return text.replace(/[\r\n]+/g, ' ');
}
