import { request as httpRequest, type IncomingMessage, type OutgoingHttpHeaders } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { LookupFunction } from 'node:net';
import type { Notification, SendResult, WebhookSender } from '../../app/channel-delivery.js';
import type { Clock } from '../../app/ports.js';
import type { WebhookChannel } from '../../domain/agency.js';
import { SIGNATURE_HEADER, signatureHeader } from '../../domain/webhook-signature.js';
import { hmacSha256Hex } from './hmac.js';
import type { AckLinks } from '../http/ack-links.js';
import { webhookBody } from './webhook-body.js';
import { assertAllowCidrs, resolveWebhookTarget, systemResolve, type Resolve } from './webhook-target.js';

export interface HttpWebhookSenderOptions {
  /**
   * Blocks a webhook may reach although they are not public (`WEBHOOK_ALLOW_CIDRS`), e.g.
   * `127.0.0.1/32` for a receiver on the same host. Cloud metadata addresses stay refused.
   */
  readonly allowCidrs: readonly string[];
  /** For the whole request: connect, send, and the response read to its end. */
  readonly timeoutMs: number;
  /** Signing time. */
  readonly clock: Clock;
  /** Host name resolution; the system resolver when absent. */
  readonly resolve?: Resolve;
  readonly userAgent?: string;
  /** Signed acknowledgement links for incident events, when enabled. */
  readonly ackLinks?: AckLinks;
}

export const IDEMPOTENCY_HEADER = 'idempotency-key';
export const ATTEMPT_HEADER = 'beacon-delivery-attempt';

/**
 * POSTs signed notifications over Node's HTTP client. Each request resolves the host, judges
 * every address, and connects to the checked address through a pinned lookup, on a connection
 * of its own (no keep-alive pool whose sockets were checked for another request). Redirects are
 * not followed: a 3xx is a failed attempt, since its target was never judged.
 */
export class HttpWebhookSender implements WebhookSender {
  readonly #options: HttpWebhookSenderOptions;

  constructor(options: HttpWebhookSenderOptions) {
    assertAllowCidrs(options.allowCidrs);
    if (!(options.timeoutMs > 0)) throw new RangeError('timeoutMs must be positive');
    this.#options = options;
  }

  async send(channel: WebhookChannel, notification: Notification, attempt: number): Promise<SendResult> {
    const {
      allowCidrs,
      clock,
      resolve = systemResolve,
      timeoutMs,
      userAgent = 'Beacon-Webhooks/1',
    } = this.#options;
    const target = await resolveWebhookTarget(channel.url, allowCidrs, resolve);
    if (!target.ok) {
      return target.kind === 'refused'
        ? { outcome: 'refused', detail: target.detail }
        : { outcome: 'failed', detail: target.detail, endpointFault: true };
    }
    const ack =
      notification.kind === 'event' && notification.event.incidentId
        ? this.#options.ackLinks?.url(notification.agencyId, notification.event.incidentId, 'webhook-link')
        : undefined;
    const body = JSON.stringify(webhookBody(notification, ack));
    const signature = signatureHeader({
      body,
      secrets: channel.secrets,
      now: clock.now(),
      hmac: hmacSha256Hex,
    });
    if (!signature) return { outcome: 'refused', detail: 'no signing secret is active: nothing may be sent' };

    // The origin only: paths and queries of webhook URLs often carry the receiver's token.
    const where = target.url.origin;
    const headers: OutgoingHttpHeaders = {
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(body),
      'user-agent': userAgent,
      [SIGNATURE_HEADER]: signature,
      [IDEMPOTENCY_HEADER]: notification.key,
      [ATTEMPT_HEADER]: String(attempt),
    };
    try {
      const response = await post(target.url, target.address, target.family, headers, body, timeoutMs);
      const { status } = response;
      if (status >= 200 && status < 300)
        return { outcome: 'delivered', detail: `HTTP ${status} from ${where}` };
      const redirect = status >= 300 && status < 400 ? ' (redirects are not followed)' : '';
      return {
        outcome: 'failed',
        // The status only: a receiver's body shown back through the delivery records would be a
        // read channel into whatever an allowed block holds (the record is an agency's to read).
        detail: `HTTP ${status} from ${where}${redirect}`,
        // A receiver that answers 4xx is up: it turned this request down. Timeouts and
        // throttling say it is struggling.
        endpointFault: status >= 500 || status === 408 || status === 429,
      };
    } catch (error) {
      return { outcome: 'failed', detail: `${describe(error, timeoutMs)} (${where})`, endpointFault: true };
    }
  }
}

/** A lookup that answers every query with the one address already checked. */
function pinnedLookup(address: string, family: 4 | 6): LookupFunction {
  return ((_hostname: string, options: { all?: boolean }, callback: (...args: unknown[]) => void) => {
    if (options.all) callback(null, [{ address, family }]);
    else callback(null, address, family);
  }) as LookupFunction;
}

function post(
  url: URL,
  address: string,
  family: 4 | 6,
  headers: OutgoingHttpHeaders,
  body: string,
  timeoutMs: number,
): Promise<{ status: number }> {
  const request = url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: 'POST',
        headers,
        // The host name stays in the URL, so TLS still verifies the certificate against it
        // (and sends it as SNI); only the address lookup is answered from the check.
        lookup: pinnedLookup(address, family),
        family,
        agent: false,
        signal: AbortSignal.timeout(timeoutMs),
      },
      (res: IncomingMessage) => {
        // The status is the whole answer: the body is never read, kept or shown. The connection
        // is this request's own (no pool), so closing it costs no other delivery.
        resolve({ status: res.statusCode ?? 0 });
        res.destroy();
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

function describe(error: unknown, timeoutMs: number): string {
  if (error instanceof Error) {
    if (error.name === 'AbortError' || error.name === 'TimeoutError')
      return `timed out after ${timeoutMs} ms`;
    const code = (error as NodeJS.ErrnoException).code;
    return code ? `connection failed (${code})` : `request failed: ${error.message}`;
  }
  return 'request failed';
}
