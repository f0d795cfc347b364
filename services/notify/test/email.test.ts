import type { AddressInfo } from 'node:net';
import { simpleParser, type AddressObject, type ParsedMail } from 'mailparser';
import { SMTPServer, type SMTPServerSession } from 'smtp-server';
import { describe, expect } from 'vitest';
import { test as base, waitFor } from '@beacon/testkit';
import { EMAIL_IDEMPOTENCY_HEADER, SmtpEmailSender } from '../src/adapters/delivery/email-sender.js';
import { agency, createKit, INCIDENT } from './delivery-kit.js';

interface ReceivedMail {
  readonly mailFrom: string;
  readonly rcptTo: string[];
  readonly user: string | undefined;
  readonly parsed: ParsedMail;
}

interface SmtpSink {
  readonly port: number;
  readonly mails: ReceivedMail[];
  /** Data transactions the server turned down on purpose. */
  readonly rejected: number;
}

const USER = 'beacon';
const PASS = 'smtp-test-password';

/**
 * A real SMTP server (the `smtp-server` package) on the loopback, requiring a login, that parses
 * every mail it accepts. `rejectFirst` turns the first n mails down with a temporary 451.
 */
async function startSmtp(rejectFirst = 0): Promise<{ sink: SmtpSink; close(): Promise<void> }> {
  const mails: ReceivedMail[] = [];
  let rejected = 0;
  const server = new SMTPServer({
    logger: false,
    disabledCommands: ['STARTTLS'],
    allowInsecureAuth: true,
    onAuth(auth, _session, callback) {
      if (auth.username === USER && auth.password === PASS) callback(null, { user: USER });
      else callback(new Error('invalid credentials'));
    },
    onData(stream, session: SMTPServerSession, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        if (rejected < rejectFirst) {
          rejected += 1;
          callback(Object.assign(new Error('try again later'), { responseCode: 451 }));
          return;
        }
        simpleParser(Buffer.concat(chunks)).then(
          (parsed) => {
            const envelope = session.envelope;
            mails.push({
              mailFrom: envelope.mailFrom ? envelope.mailFrom.address : '',
              rcptTo: envelope.rcptTo.map((r) => r.address),
              user: session.user as string | undefined,
              parsed,
            });
            callback();
          },
          (error: Error) => callback(error),
        );
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.server.address() as AddressInfo;
  const sink = {
    port,
    mails,
    get rejected() {
      return rejected;
    },
  };
  return { sink, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

const test = base
  .extend('kit', async ({ nats, jsm, names, db }, { onCleanup }) =>
    createKit({ nats, jsm, names, db }, onCleanup),
  )
  // eslint-disable-next-line no-empty-pattern -- vitest reads a fixture's needs from the pattern
  .extend('smtp', async ({}, { onCleanup }) => {
    const smtp = await startSmtp();
    onCleanup(() => smtp.close());
    return smtp.sink;
  });

function sender(port: number): SmtpEmailSender {
  return new SmtpEmailSender({
    host: '127.0.0.1',
    port,
    secure: false,
    auth: { user: USER, pass: PASS },
    from: 'Beacon <beacon@coordination.example>',
    timeoutMs: 5_000,
    messageIdDomain: 'beacon.example',
  });
}

const addresses = (to: AddressObject | AddressObject[] | undefined) =>
  (Array.isArray(to) ? to : to ? [to] : []).flatMap((a) => a.value.map((v) => v.address));

const mailsWhere = (sink: SmtpSink, count: number, what: string) =>
  waitFor(
    async () =>
      sink.mails.length >= count ? sink.mails : Promise.reject(new Error(`${sink.mails.length} mails`)),
    { what, timeoutMs: 10_000, intervalMs: 20 },
  );

const RECIPIENTS = ['duty@csirt.example', 'deputy@csirt.example'];
const HOSTILE = `<img src=x onerror="alert('x')"> & <b>co</b>`;

describe('email delivery', () => {
  test('an event is mailed to every recipient with the TLP label in the subject and escaped HTML', async ({
    kit,
    smtp,
  }) => {
    const mailer = sender(smtp.port);
    kit.agencies.set('cert-mail', agency('cert-mail', { email: { to: RECIPIENTS } }));
    await kit.startDelivery({ email: { sender: mailer } });
    try {
      const event = await kit.publish('cert-mail', { tlp: 'AMBER+STRICT', subject: HOSTILE });
      const [mail] = await mailsWhere(smtp, 1, 'the mail');

      expect(mail!.user).toBe(USER);
      expect(mail!.mailFrom).toBe('beacon@coordination.example');
      expect(mail!.rcptTo.sort()).toEqual([...RECIPIENTS].sort());
      const { parsed } = mail!;
      expect(addresses(parsed.to).sort()).toEqual([...RECIPIENTS].sort());
      expect(parsed.subject).toBe(`[TLP:AMBER+STRICT] beacon.incident.opened.v1 on incident ${INCIDENT}`);
      expect(parsed.messageId).toBe(`<${event.id}.cert-mail@beacon.example>`);
      expect(parsed.headers.get(EMAIL_IDEMPOTENCY_HEADER.toLowerCase())).toBe(`${event.id}.cert-mail`);

      // The plain-text part carries the values as they are.
      expect(parsed.text).toContain('TLP:AMBER+STRICT: Limited disclosure: your organisation only.');
      expect(parsed.text).toContain(`Subject: ${HOSTILE}`);
      expect(parsed.text).toContain(`Event id: ${event.id}`);
      expect(parsed.text).toContain(`Feed sequence: ${event.seq}`);

      // The HTML part escapes them: no element from the event survives.
      const html = parsed.html as string;
      expect(html).toContain(
        '&lt;img src=x onerror=&quot;alert(&#39;x&#39;)&quot;&gt; &amp; &lt;b&gt;co&lt;/b&gt;',
      );
      expect(html).not.toContain('<img');
      expect(html).not.toContain('<b>co');
      expect(html).toContain('TLP:AMBER+STRICT');

      const records = await waitFor(
        async () => {
          const r = await kit.records('cert-mail', INCIDENT);
          return r.length === 1 ? r : Promise.reject(new Error('no record yet'));
        },
        { what: 'the delivery record', timeoutMs: 5_000, intervalMs: 20 },
      );
      expect(records[0]).toMatchObject({ channel: 'email', attempt: 1, outcome: 'delivered' });
      expect(records[0]!.detail).toBe('accepted by the relay for 2 of 2 recipients');
      expect(JSON.stringify(records)).not.toContain('csirt.example');
    } finally {
      mailer.close();
    }
  });

  test('during a storm the held events go out as one digest mail', async ({ kit, smtp }) => {
    const mailer = sender(smtp.port);
    kit.agencies.set('cert-digest', agency('cert-digest', { email: { to: ['duty@csirt.example'] } }));
    await kit.startDelivery({ email: { sender: mailer }, storm: { windowMs: 800, threshold: 1 } });
    try {
      const events = [
        await kit.publish('cert-digest', { tlp: 'GREEN' }),
        await kit.publish('cert-digest', { tlp: 'AMBER', subject: HOSTILE }),
        await kit.publish('cert-digest', { tlp: 'RED' }),
        await kit.publish('cert-digest', { tlp: 'GREEN' }),
      ];
      const mails = await mailsWhere(smtp, 2, 'the event mail and the digest');
      const digest = mails.find((m) => m.parsed.subject?.includes('Digest'))!;
      const single = mails.find((m) => m !== digest)!;
      expect(single.parsed.subject).toMatch(/^\[TLP:GREEN\] beacon\.incident\.opened\.v1/);

      // The most restrictive label of the events it lists.
      expect(digest.parsed.subject).toBe(`[TLP:RED] Digest: 3 events on incident ${INCIDENT}`);
      expect(digest.rcptTo).toEqual(['duty@csirt.example']);
      const listed = events.filter((e) => !single.parsed.text!.includes(e.id));
      const text = digest.parsed.text!;
      expect(text).toContain('TLP:RED: For the named recipients only: do not forward.');
      for (const e of listed) expect(text).toContain(`Feed sequence: ${e.seq}`);
      expect(text.match(/^Event \d+$/gm)).toHaveLength(3);
      const html = digest.parsed.html as string;
      expect(html).toContain('&lt;img src=x');
      expect(html).not.toContain('<img');
      expect(html.match(/<li>/g)).toHaveLength(3);

      const records = await waitFor(
        async () => {
          const r = await kit.records('cert-digest', INCIDENT);
          return r.filter((x) => x.outcome === 'delivered').length === 2
            ? r
            : Promise.reject(new Error('waiting'));
        },
        { what: 'the digest record', timeoutMs: 5_000, intervalMs: 20 },
      );
      expect(records.filter((r) => r.outcome === 'held')).toHaveLength(3);
      expect(records.find((r) => r.eventId.startsWith('digest:'))).toMatchObject({
        channel: 'email',
        outcome: 'delivered',
        attempt: 1,
      });
      expect(smtp.mails).toHaveLength(2);
    } finally {
      mailer.close();
    }
  });

  test('a mail the relay turns down for now is retried with the same Message-ID', async ({ kit }) => {
    const smtp = await startSmtp(1);
    const mailer = sender(smtp.sink.port);
    kit.agencies.set('cert-retry', agency('cert-retry', { email: { to: ['duty@csirt.example'] } }));
    await kit.startDelivery({ email: { sender: mailer } });
    try {
      const event = await kit.publish('cert-retry');
      const [mail] = await mailsWhere(smtp.sink, 1, 'the mail after the retry');
      expect(smtp.sink.rejected).toBe(1);
      expect(mail!.parsed.messageId).toBe(`<${event.id}.cert-retry@beacon.example>`);
      const records = await waitFor(
        async () => {
          const r = await kit.records('cert-retry', INCIDENT);
          return r.length === 2 ? r : Promise.reject(new Error('waiting'));
        },
        { what: 'both attempts recorded', timeoutMs: 5_000, intervalMs: 20 },
      );
      expect(records.map((r) => [r.attempt, r.outcome])).toEqual([
        [1, 'failed'],
        [2, 'delivered'],
      ]);
      expect(records[0]!.detail).toContain('reply 451');
    } finally {
      mailer.close();
      await smtp.close();
    }
  });
});
