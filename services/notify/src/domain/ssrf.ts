import {
  type AddressRange,
  classifyIpAddress,
  formatIpAddress,
  inCidr,
  type IpAddress,
  parseCidr,
  parseIpAddress,
} from '@beacon/domain';

/**
 * Server-side request forgery protection for webhooks. An agency admin chooses the webhook URL,
 * so without a check Beacon would POST signed event data wherever that URL points: the cloud
 * metadata service, the Mongo or NATS ports on the loopback, an internal admin API.
 *
 * The domain judges; the adapter resolves. The adapter looks the host up, passes every address
 * it got here, and then must connect only to the addresses this check returned (pinning them,
 * so a second DNS answer cannot swap the target: DNS rebinding) and follow no redirect without
 * judging it again.
 */

/** What an address is, from the point of view of a connection leaving Beacon. */
export type AddressCategory = AddressRange | 'cloud-metadata';

/**
 * Instance metadata services, which hand out cloud credentials: refused even inside an allowed
 * block, and whatever IPv6 form carries them.
 */
const CLOUD_METADATA = [
  // AWS, GCP, Azure, OpenStack and others all serve instance credentials here.
  '169.254.169.254',
  // Alibaba Cloud's metadata service.
  '100.100.100.200',
  // AWS's metadata service over IPv6 (inside the unique-local block, named for the report).
  'fd00:ec2::254',
].map((text) => parseCidr(text)!);

/** An address's category and, for IPv6 forms that carry an IPv4 address, that address. */
export interface AddressClass {
  readonly category: AddressCategory;
  readonly embedded?: IpAddress;
}

/**
 * Classifies an address by the special-purpose ranges (see `classifyIpAddress`: IPv6 forms that
 * reach an IPv4 address take that address's range), with the cloud metadata addresses named.
 */
export function classifyAddress(address: IpAddress): AddressClass {
  const { range, embedded } = classifyIpAddress(address);
  const metadata = CLOUD_METADATA.some(
    (cidr) => inCidr(address, cidr) || (embedded !== undefined && inCidr(embedded, cidr)),
  );
  const category = metadata ? 'cloud-metadata' : range;
  return embedded ? { category, embedded } : { category };
}

/** The CIDR strings of `list` that do not parse: for validating configuration at start-up. */
export function invalidCidrs(list: readonly string[]): string[] {
  return list.filter((text) => parseCidr(text) === undefined);
}

export interface WebhookTargetOptions {
  /**
   * CIDR blocks (or single addresses) a webhook may reach although they are not public, e.g. a
   * test receiver on `127.0.0.1/32`. An IPv4 block also covers the IPv6 forms that carry its
   * addresses. Cloud metadata addresses stay refused even inside an allowed block.
   */
  readonly allow?: readonly string[];
}

export type WebhookTargetRefusal =
  | 'invalid-url'
  | 'scheme'
  | 'credentials'
  | 'localhost-name'
  | 'unresolved'
  | 'invalid-address'
  | 'forbidden-address';

export type WebhookTargetVerdict =
  | {
      readonly ok: true;
      /** The URL as WHATWG parsing normalised it: send to this, not to the text given. */
      readonly url: string;
      /** The canonical addresses to connect to, and only these. */
      readonly addresses: readonly string[];
    }
  | {
      readonly ok: false;
      readonly reason: WebhookTargetRefusal;
      readonly detail: string;
      /** The offending address, canonical, when the refusal is about one. */
      readonly address?: string;
      readonly category?: AddressCategory;
    };

/**
 * The checks that need no DNS, for refusing a URL when it is saved rather than at its first
 * delivery: its form, and its host when that is an IP literal (private, loopback, link-local,
 * unique-local, carrier-grade NAT, metadata…), judged with the same allowed blocks as delivery.
 * The URL is parsed by WHATWG rules, the same parser `fetch` uses, so the host judged here is
 * the host that would be contacted, and decimal, hex or octal spellings of an IPv4 address
 * (`http://2130706433/`, `http://0x7f.1/`) arrive here already as the dotted quad they mean.
 * A host name is judged at delivery, once resolved.
 */
export function webhookUrlProblem(url: string, options: WebhookTargetOptions = {}): string | undefined {
  const verdict = checkWebhookTarget(url, [], options);
  return verdict.ok || verdict.reason === 'unresolved' ? undefined : verdict.detail;
}

/**
 * Whether Beacon may POST to `url` when its host resolved to `resolvedAddresses`: an http(s)
 * URL without credentials, whose every address (and the host itself, when it is an IP literal)
 * is public or inside an allowed block. One bad address refuses the whole target, because the
 * HTTP client may pick any of them. A name under `localhost` (RFC 6761) is refused unless all
 * its addresses are allowed, whatever they are, since hosts files need not agree with DNS.
 */
export function checkWebhookTarget(
  url: string,
  resolvedAddresses: readonly string[],
  options: WebhookTargetOptions = {},
): WebhookTargetVerdict {
  const allow = (options.allow ?? []).map((text) => {
    const cidr = parseCidr(text);
    if (!cidr) throw new RangeError(`allowed webhook block "${text}" is not an address or CIDR block`);
    return cidr;
  });
  const parsed = parseWebhookUrl(url);
  if (!parsed.ok) return parsed;
  const { href, hostname } = parsed;

  const literal = parseIpAddress(hostname.replace(/^\[(.*)\]$/, '$1'));
  const texts = literal ? [hostname, ...resolvedAddresses] : resolvedAddresses;
  if (texts.length === 0) {
    return { ok: false, reason: 'unresolved', detail: `"${hostname}" resolved to no address` };
  }
  const addresses: IpAddress[] = [];
  for (const text of texts) {
    const address = parseIpAddress(text.replace(/^\[(.*)\]$/, '$1'));
    if (!address) {
      return { ok: false, reason: 'invalid-address', detail: `"${text}" is not an IP address` };
    }
    addresses.push(address);
  }

  const localhostName = !literal && /(^|\.)localhost\.?$/.test(hostname);
  for (const address of addresses) {
    const { category, embedded } = classifyAddress(address);
    const allowed = allow.some((cidr) => inCidr(address, cidr) || (embedded && inCidr(embedded, cidr)));
    const canonical = formatIpAddress(address);
    if (localhostName && !allowed) {
      return {
        ok: false,
        reason: 'localhost-name',
        detail: `"${hostname}" names this host; ${canonical} is not in an allowed block`,
        address: canonical,
        category,
      };
    }
    if (category === 'cloud-metadata' || (category !== 'public' && !allowed)) {
      return {
        ok: false,
        reason: 'forbidden-address',
        detail: `${canonical} is ${category.replaceAll('-', ' ')}${allowed ? ', never allowed' : ''}`,
        address: canonical,
        category,
      };
    }
  }
  return { ok: true, url: href, addresses: [...new Set(addresses.map(formatIpAddress))] };
}

type ParsedUrl =
  | { readonly ok: true; readonly href: string; readonly hostname: string }
  | { readonly ok: false; readonly reason: WebhookTargetRefusal; readonly detail: string };

function parseWebhookUrl(url: string): ParsedUrl {
  if (!URL.canParse(url)) return { ok: false, reason: 'invalid-url', detail: 'not a valid absolute URL' };
  const parsed = new URL(url);
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') {
    return { ok: false, reason: 'scheme', detail: `scheme "${parsed.protocol}" is not http or https` };
  }
  // Credentials would be sent to the receiver in the clear and are a common way to smuggle a
  // second host past naive parsers (`http://internal@evil/`).
  if (parsed.username !== '' || parsed.password !== '') {
    return { ok: false, reason: 'credentials', detail: 'the URL carries a user name or password' };
  }
  return { ok: true, href: parsed.href, hostname: parsed.hostname.toLowerCase() };
}
