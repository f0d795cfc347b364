import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from '@beacon/platform';
import { verifyAckLink } from '../../domain/ack-link.js';
import { NotifyError } from '../../app/errors.js';
import type { NotifyService } from '../../app/notify-service.js';
import { escapeHtml } from '../delivery/email-render.js';
import { hmacSha256Hex } from '../delivery/hmac.js';

const page = (title: string, body: string) =>
  `<!doctype html><html lang="en"><meta charset="utf-8"><title>${escapeHtml(title)}</title>` +
  `<body style="font-family:sans-serif;max-width:40em;margin:3em auto"><h1>${escapeHtml(title)}</h1>${body}</body></html>`;

/**
 * The page behind an acknowledgement link. Opening the link (GET) only shows what would be
 * acknowledged, with a button: mail scanners and link previews open links, and must not
 * acknowledge on anyone's behalf. The button (POST) records the acknowledgement.
 */
export async function startAckServer(options: {
  readonly host: string;
  readonly port: number;
  readonly secret: string;
  readonly service: NotifyService;
  readonly now: () => Date;
  readonly logger: Logger;
}): Promise<{ readonly port: number; stop(): Promise<void> }> {
  const server: Server = createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://ack.invalid');
    const send = (status: number, html: string) => {
      response.writeHead(status, {
        'content-type': 'text/html; charset=utf-8',
        'cache-control': 'no-store',
        'referrer-policy': 'no-referrer',
        'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'",
        'x-frame-options': 'DENY',
      });
      response.end(html);
    };
    if (url.pathname !== '/ack' || (request.method !== 'GET' && request.method !== 'POST')) {
      send(404, page('Not found', ''));
      return;
    }
    // The signature rides in the query of both the link and the form, never in a body.
    request.resume();
    const verdict = verifyAckLink(url.searchParams, options.now(), options.secret, hmacSha256Hex);
    if (!verdict.ok) {
      const status = verdict.reason === 'expired' ? 410 : 403;
      send(
        status,
        page(
          'This link cannot be used',
          `<p>${verdict.reason === 'expired' ? 'It has expired' : 'It is not valid'}.</p>`,
        ),
      );
      return;
    }
    const { agencyId, incidentId, via } = verdict.claims;
    if (request.method === 'GET') {
      send(
        200,
        page(
          'Acknowledge the engagement',
          `<p>Agency <b>${escapeHtml(agencyId)}</b> acknowledges its engagement on incident <b>${escapeHtml(incidentId)}</b>.</p>` +
            `<form method="post" action="/ack?${escapeHtml(url.searchParams.toString())}"><button>Acknowledge</button></form>`,
        ),
      );
      return;
    }
    options.service.acknowledge(undefined, agencyId, incidentId, '', via).then(
      (result) =>
        send(
          200,
          page(
            'Acknowledged',
            `<p>${result.first ? 'Recorded' : 'Already recorded'} at ${escapeHtml(result.acknowledgedAt.toISOString())}.</p>`,
          ),
        ),
      (error: unknown) => {
        if (error instanceof NotifyError && error.kind === 'not-found') {
          // The same page whether the incident is unknown, hidden from the agency or not its.
          send(404, page('Nothing to acknowledge', '<p>There is no engagement to acknowledge here.</p>'));
          return;
        }
        options.logger.error({ err: error }, 'acknowledgement by link failed');
        send(500, page('Something went wrong', '<p>Please try again, or acknowledge in Beacon.</p>'));
      },
    );
  });
  await new Promise<void>((resolve) => server.listen(options.port, options.host, resolve));
  return {
    port: (server.address() as AddressInfo).port,
    stop: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
