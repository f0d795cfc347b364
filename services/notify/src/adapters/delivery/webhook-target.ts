import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { checkWebhookTarget, invalidCidrs, type WebhookTargetVerdict } from '../../domain/ssrf.js';

/** Every address a host name resolves to, in the resolver's order. */
export type Resolve = (hostname: string) => Promise<readonly string[]>;

/** The system resolver (`getaddrinfo`: hosts file, then DNS), as an HTTP client would use it. */
export const systemResolve: Resolve = async (hostname) =>
  (await lookup(hostname, { all: true, verbatim: true })).map((a) => a.address);

export type ResolvedTarget =
  | {
      readonly ok: true;
      /** The URL as WHATWG parsing normalised it. */
      readonly url: URL;
      /** The checked address the request must connect to, and no other. */
      readonly address: string;
      readonly family: 4 | 6;
    }
  /** Beacon will not send there: the URL or an address it resolves to is forbidden. */
  | { readonly ok: false; readonly kind: 'refused'; readonly detail: string }
  /** The name did not resolve (now): worth a retry. */
  | { readonly ok: false; readonly kind: 'unresolved'; readonly detail: string };

/** Throws at start-up when an allowed block does not parse. */
export function assertAllowCidrs(allow: readonly string[]): void {
  const invalid = invalidCidrs(allow);
  if (invalid.length > 0) throw new RangeError(`not an address or CIDR block: ${invalid.join(', ')}`);
}

/**
 * Resolves a webhook URL's host and judges every address with `checkWebhookTarget`. The URL's
 * form is judged before any lookup, so a refused scheme or a forbidden IP literal costs no DNS
 * query. The caller connects to `address` only (see `pinnedLookup`): a second DNS answer, the
 * rebinding trick, never reaches the socket.
 */
export async function resolveWebhookTarget(
  url: string,
  allow: readonly string[],
  resolve: Resolve,
): Promise<ResolvedTarget> {
  const literal = checkWebhookTarget(url, [], { allow });
  if (literal.ok) return pin(literal);
  if (literal.reason !== 'unresolved') return refused(literal);

  const { hostname } = new URL(url);
  let addresses: readonly string[];
  try {
    addresses = await resolve(hostname);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'error';
    return { ok: false, kind: 'unresolved', detail: `DNS lookup of ${hostname} failed (${code})` };
  }
  const verdict = checkWebhookTarget(url, addresses, { allow });
  if (verdict.ok) return pin(verdict);
  if (verdict.reason === 'unresolved') return { ok: false, kind: 'unresolved', detail: verdict.detail };
  return refused(verdict);
}

function pin(verdict: Extract<WebhookTargetVerdict, { ok: true }>): ResolvedTarget {
  const address = verdict.addresses[0];
  const family = address === undefined ? 0 : isIP(address);
  if (address === undefined || (family !== 4 && family !== 6)) {
    return { ok: false, kind: 'refused', detail: 'no address to connect to' };
  }
  return { ok: true, url: new URL(verdict.url), address, family };
}

function refused(verdict: Extract<WebhookTargetVerdict, { ok: false }>): ResolvedTarget {
  return { ok: false, kind: 'refused', detail: `SSRF guard (${verdict.reason}): ${verdict.detail}` };
}
