import { createHash } from 'node:crypto';
import { BlockList, isIP } from 'node:net';

/**
 * The address a request came from, for per-address limits. Behind a reverse proxy every
 * connection comes from the proxy, so `X-Forwarded-For` is read, but only when the connection
 * comes from a proxy the operator listed (`TRUSTED_PROXIES`): anyone else could write any
 * address there and get a fresh budget per request. The chain is read from the right, skipping
 * trusted proxies; the first address that is not one is the client.
 */
export class ClientAddresses {
  readonly #trusted = new BlockList();
  readonly #any: boolean;

  /** `proxies`: addresses or CIDR ranges, IPv4 or IPv6. */
  constructor(proxies: readonly string[]) {
    for (const entry of proxies) {
      const [address = '', prefix] = entry.split('/');
      const type = isIP(address) === 6 ? 'ipv6' : 'ipv4';
      if (prefix === undefined) this.#trusted.addAddress(address, type);
      else this.#trusted.addSubnet(address, Number(prefix), type);
    }
    this.#any = proxies.length > 0;
  }

  /** The client's address given the connection's peer and its `X-Forwarded-For`, if any. */
  resolve(peer: string | undefined, forwardedFor: string | undefined): string {
    let address = normalise(peer ?? '');
    if (!this.#any || !forwardedFor) return address;
    const chain = forwardedFor.split(',').map((hop) => normalise(hop.trim()));
    while (this.#isTrusted(address)) {
      const hop = chain.pop();
      if (hop === undefined || isIP(hop) === 0) break;
      address = hop;
    }
    return address;
  }

  #isTrusted(address: string): boolean {
    const type = isIP(address);
    return type !== 0 && this.#trusted.check(address, type === 6 ? 'ipv6' : 'ipv4');
  }
}

/** `::ffff:1.2.3.4` is 1.2.3.4; an IPv6 zone is dropped. */
function normalise(address: string): string {
  const plain = address.replace(/%.*$/, '');
  return plain.startsWith('::ffff:') && isIP(plain.slice(7)) === 4 ? plain.slice(7) : plain;
}

/** The address from a grpc-js peer string: `1.2.3.4:5678`, `[::1]:5678` or `ipv4:1.2.3.4:5678`. */
export function grpcPeerAddress(peer: string): string {
  const bare = peer.replace(/^ipv[46]:/, '');
  const bracketed = /^\[([^\]]+)\]/.exec(bare);
  if (bracketed) return bracketed[1]!;
  const colon = bare.lastIndexOf(':');
  return colon > 0 && bare.indexOf(':') === colon ? bare.slice(0, colon) : bare;
}

/**
 * The key an address is limited under: IPv6 clients get a whole /64 each (one host usually
 * owns one), so they cannot take a fresh budget per address. Hashed, so that the addresses do
 * not travel to the other replicas nor sit in memory dumps in clear.
 */
export function addressKey(address: string): string {
  return limitKey(isIP(address) === 6 ? ipv6Prefix64(address) : address);
}

/** A short, stable hash of a limit's key (an address or a token's subject). */
export function limitKey(value: string): string {
  return createHash('sha256').update(value).digest('base64url').slice(0, 22);
}

function ipv6Prefix64(address: string): string {
  const [head = '', tail] = address.split('::');
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const groups =
    tail === undefined
      ? left
      : [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right];
  return `${groups
    .slice(0, 4)
    .map((g) => g.toLowerCase())
    .join(':')}::/64`;
}
