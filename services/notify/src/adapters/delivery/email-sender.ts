import { createTransport } from 'nodemailer';
import type { EmailSender, Notification, SendResult } from '../../app/channel-delivery.js';
import type { EmailChannel } from '../../domain/agency.js';
import type { AckLinks } from '../http/ack-links.js';
import { renderEmail } from './email-render.js';

export interface SmtpEmailSenderOptions {
  readonly host: string;
  readonly port: number;
  /** TLS from the first byte (port 465); otherwise STARTTLS when the server offers it. */
  readonly secure: boolean;
  /** Refuse to send unless the connection is encrypted (STARTTLS required). */
  readonly requireTls?: boolean;
  readonly auth?: { readonly user: string; readonly pass: string };
  /** The sender address, e.g. `Beacon <beacon@csirt.example>`. */
  readonly from: string;
  /** Connect, greeting and idle socket timeouts. */
  readonly timeoutMs: number;
  /** Right-hand side of the Message-ID; default `beacon.invalid`. */
  readonly messageIdDomain?: string;
  /** Connections kept open to the relay; default 3. */
  readonly maxConnections?: number;
  /** Signed acknowledgement links for incident events, when enabled. */
  readonly ackLinks?: AckLinks;
}

export const EMAIL_IDEMPOTENCY_HEADER = 'X-Beacon-Idempotency-Key';

/**
 * Mails notifications through an SMTP relay with nodemailer (pooled connections). The
 * Message-ID is derived from the idempotency key, so a mail resent after a lost reply is the
 * same message to the recipients' clients, which fold duplicates by it.
 */
export class SmtpEmailSender implements EmailSender {
  readonly #transport;
  readonly #from: string;
  readonly #messageIdDomain: string;
  readonly #ackLinks: AckLinks | undefined;

  constructor(options: SmtpEmailSenderOptions) {
    this.#from = options.from;
    this.#messageIdDomain = options.messageIdDomain ?? 'beacon.invalid';
    this.#ackLinks = options.ackLinks;
    this.#transport = createTransport({
      pool: true,
      maxConnections: options.maxConnections ?? 3,
      host: options.host,
      port: options.port,
      secure: options.secure,
      requireTLS: options.requireTls ?? false,
      ...(options.auth ? { auth: { user: options.auth.user, pass: options.auth.pass } } : {}),
      connectionTimeout: options.timeoutMs,
      greetingTimeout: options.timeoutMs,
      socketTimeout: options.timeoutMs,
      // Nothing in a mail may make nodemailer read a file or fetch a URL.
      disableFileAccess: true,
      disableUrlAccess: true,
    });
  }

  async send(channel: EmailChannel, notification: Notification, attempt: number): Promise<SendResult> {
    const ack =
      notification.kind === 'event' && notification.event.incidentId
        ? this.#ackLinks?.url(notification.agencyId, notification.event.incidentId, 'email-link')
        : undefined;
    const { subject, text, html } = renderEmail(notification, ack);
    try {
      const info = await this.#transport.sendMail({
        from: this.#from,
        to: [...channel.to],
        subject,
        text,
        html,
        messageId: `<${notification.key.replace(/[^A-Za-z0-9._-]/g, '-')}@${this.#messageIdDomain}>`,
        headers: {
          [EMAIL_IDEMPOTENCY_HEADER]: notification.key,
          'X-Beacon-Delivery-Attempt': String(attempt),
        },
      });
      // Addresses stay out of the record: they are personal data.
      const rejected = info.rejected.length;
      return {
        outcome: 'delivered',
        detail: `accepted by the relay for ${info.accepted.length} of ${channel.to.length} recipients${rejected > 0 ? ` (${rejected} rejected)` : ''}`,
      };
    } catch (error) {
      const { code, responseCode } = error as { code?: string; responseCode?: number };
      const parts = [code, responseCode === undefined ? undefined : `reply ${responseCode}`].filter(Boolean);
      return {
        outcome: 'failed',
        detail: `SMTP send failed${parts.length > 0 ? ` (${parts.join(', ')})` : ''}`,
        endpointFault: true,
      };
    }
  }

  /** Closes the pooled connections. */
  close(): void {
    this.#transport.close();
  }
}
