import { describe, expect, test } from 'vitest';
import type { FeedEvent } from './feed-event.js';
import { DIGEST_TYPE, webhookBody } from './webhook-body.js';

const event: FeedEvent = {
  id: 'e1',
  type: 'beacon.incident.opened.v1',
  source: 'beacon/intake',
  subject: 'incident/i1',
  time: undefined,
  tlp: 'GREEN',
  incidentId: 'i1',
  datacontenttype: 'application/protobuf',
  dataschema: 'beacon.intake.v1.IncidentOpened',
  data: new Uint8Array([0xff, 0x00, 0x10]),
};

describe('webhookBody', () => {
  test('carries the acknowledgement link it is given, and none otherwise', () => {
    const notification = { kind: 'event', agencyId: 'a', key: 'e1.a', event, feedSequence: 4 } as const;
    expect(webhookBody(notification, 'https://beacon.example/ack?x=1')).toMatchObject({
      ackUrl: 'https://beacon.example/ack?x=1',
    });
    expect(webhookBody(notification)).not.toHaveProperty('ackUrl');
  });

  test('an event carries its attributes and the payload in base64', () => {
    expect(webhookBody({ kind: 'event', agencyId: 'a', key: 'e1.a', event, feedSequence: 4 })).toEqual({
      id: 'e1',
      type: 'beacon.incident.opened.v1',
      source: 'beacon/intake',
      subject: 'incident/i1',
      time: null,
      tlp: 'GREEN',
      incidentId: 'i1',
      agencyId: 'a',
      feedSequence: 4,
      datacontenttype: 'application/protobuf',
      dataschema: 'beacon.intake.v1.IncidentOpened',
      data: '/wAQ',
    });
  });

  test('a digest lists its events by feed sequence, without payloads, and counts the omitted', () => {
    const body = webhookBody({
      kind: 'digest',
      agencyId: 'a',
      key: 'digest:a:i1:0',
      incidentId: 'i1',
      tlp: 'GREEN',
      windowStart: new Date(0),
      windowEnd: new Date(1_000),
      events: [{ event, feedSequence: 4 }],
      omitted: 2,
    });
    expect(body).toMatchObject({ id: 'digest:a:i1:0', type: DIGEST_TYPE, count: 3, omitted: 2 });
    expect(JSON.stringify(body)).not.toContain('/wAQ');
  });
});
