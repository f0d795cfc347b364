/**
 * IP addresses and CIDR blocks: strict parsing, canonical text and special-purpose ranges, for
 * observables and for judging where a connection may go. The address arithmetic and the table
 * of IANA special-purpose blocks come from `ipaddr.js` (pure JS, so this stays workflow-safe);
 * what is Beacon's own is which spellings count as an address and what each range means here.
 */
import ipaddr from 'ipaddr.js';

export interface IpAddress {
  readonly version: 4 | 6;
  /** 4 bytes for IPv4, 16 for IPv6, network order. */
  readonly bytes: readonly number[];
}

/** An address block: the addresses whose first `prefix` bits equal those of `base`. */
export interface Cidr {
  readonly base: IpAddress;
  readonly prefix: number;
}

/**
 * A dotted quad without leading zeros, or undefined. `ipaddr.js` also reads `010.0.0.1` (as
 * octal), `0x7f.1` and `2130706433`; one spelling per address is what keeps observables equal.
 */
export function parseIpv4(text: string): IpAddress | undefined {
  if (!ipaddr.IPv4.isValidFourPartDecimal(text)) return undefined;
  return { version: 4, bytes: ipaddr.IPv4.parse(text).toByteArray() };
}

/**
 * An IPv6 address (no brackets), or undefined. Zone ids are refused: they only mean something
 * on one host. An embedded IPv4 tail must be a strict dotted quad, and `::a.b.c.d` stays the
 * IPv4-compatible address it spells (`ipaddr.js` would read it as IPv4-mapped).
 */
export function parseIpv6(text: string): IpAddress | undefined {
  if (text.includes('%')) return undefined;
  let hex = text;
  const tail = /^(.*:)([^:]*\.[^:]*)$/.exec(text);
  if (tail) {
    const v4 = parseIpv4(tail[2]!);
    if (!v4) return undefined;
    const [a, b, c, d] = v4.bytes as [number, number, number, number];
    hex = `${tail[1]}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  if (!ipaddr.IPv6.isValid(hex)) return undefined;
  return { version: 6, bytes: ipaddr.IPv6.parse(hex).toByteArray() };
}

/** Parses an IPv4 or IPv6 address (IPv6 optionally in URL brackets); undefined when it is neither. */
export function parseIpAddress(text: string): IpAddress | undefined {
  const trimmed = text.trim();
  return parseIpv4(trimmed) ?? parseIpv6(trimmed.replace(/^\[(.*)\]$/, '$1'));
}

/**
 * Canonical text: the dotted quad, or RFC 5952 IPv6 with an IPv4-mapped address written
 * `::ffff:a.b.c.d` (RFC 5952 section 5).
 */
export function formatIpAddress(address: IpAddress): string {
  if (address.version === 4) return toLibrary(address).toString();
  const v6 = new ipaddr.IPv6([...address.bytes]);
  return v6.isIPv4MappedAddress() ? `::ffff:${v6.toIPv4Address().toString()}` : v6.toRFC5952String();
}

/** The block of `prefix` bits that `address` lies in: its host bits cleared. */
export function networkOf(address: IpAddress, prefix: number): Cidr {
  const mask = (address.version === 4 ? ipaddr.IPv4 : ipaddr.IPv6).subnetMaskFromPrefixLength(prefix);
  const bytes = mask.toByteArray().map((bits, i) => bits & address.bytes[i]!);
  return { base: { version: address.version, bytes }, prefix };
}

/**
 * Parses `address/prefix` (no brackets); a bare address stands for itself alone (/32 or /128).
 * Undefined when malformed. Host bits past the prefix are cleared, so one block has one form.
 */
export function parseCidr(text: string): Cidr | undefined {
  const trimmed = text.trim();
  if (!trimmed.includes('/')) {
    const base = parseIpAddress(trimmed);
    return base && { base, prefix: base.bytes.length * 8 };
  }
  const [, address = '', prefix = ''] = /^([^/]+)\/(\d{1,3})$/.exec(trimmed) ?? [];
  const base = parseIpv4(address) ?? parseIpv6(address);
  return base && Number(prefix) <= base.bytes.length * 8 ? networkOf(base, Number(prefix)) : undefined;
}

/** Whether `address` lies in `cidr`; never across IP versions (an embedded IPv4 is its own address). */
export function inCidr(address: IpAddress, cidr: Cidr): boolean {
  const a = toLibrary(address);
  const base = toLibrary(cidr.base);
  return a.kind() === base.kind() && a.match(base, cidr.prefix);
}

/** What an address's range is for, from the point of view of a connection leaving Beacon. */
export type AddressRange =
  | 'public'
  | 'private'
  | 'carrier-grade-nat'
  | 'unique-local'
  | 'loopback'
  | 'link-local'
  | 'unspecified'
  | 'multicast'
  | 'broadcast'
  | 'reserved';

/** An address's range and, for IPv6 forms that carry an IPv4 address, that address. */
export interface IpClass {
  readonly range: AddressRange;
  readonly embedded?: IpAddress;
}

/**
 * Beacon's range for each of `ipaddr.js`'s special-purpose range names (the forms that carry an
 * IPv4 address are judged by that address instead, below). Documentation, benchmarking, discard, site-local,
 * ORCHID (v1), SRv6 and the IETF protocol block `2001::/23` are `reserved`; the blocks the IANA
 * registry marks globally reachable (AS112, AMT, ORCHIDv2, drone ids) are `public`. A name not
 * listed here (a later version of the library may add one) is `reserved`: refusing is the safe side.
 */
const LIBRARY_RANGES: Readonly<Record<string, AddressRange>> = {
  unicast: 'public',
  unspecified: 'unspecified',
  broadcast: 'broadcast',
  multicast: 'multicast',
  linkLocal: 'link-local',
  loopback: 'loopback',
  carrierGradeNat: 'carrier-grade-nat',
  private: 'private',
  uniqueLocal: 'unique-local',
  // RFC 8215's local-use NAT64 prefix translates to whatever the operator's network holds.
  rfc6052: 'private',
  reserved: 'reserved',
  deprecatedSiteLocal: 'reserved',
  discard: 'reserved',
  rfc6145: 'reserved',
  benchmarking: 'reserved',
  deprecatedOrchid: 'reserved',
  segmentRouting: 'reserved',
  as112: 'public',
  amt: 'public',
  as112v6: 'public',
  orchid2: 'public',
  droneRemoteIdProtocolEntityTags: 'public',
};

const NAT64 = parseCidr('64:ff9b::/96')!;
const IPV4_COMPATIBLE = parseCidr('::/96')!;
const GLOBAL_UNICAST_V6 = parseCidr('2000::/3')!;

/**
 * Classifies an address by the IANA special-purpose registries. IPv6 forms that reach an IPv4
 * address take that address's range: IPv4-mapped (`::ffff:127.0.0.1` is the loopback to a
 * dual-stack socket), NAT64 (`64:ff9b::/96`), 6to4 (`2002::/16`) and Teredo (`2001::/32`, whose
 * client address is stored inverted). The deprecated IPv4-compatible form (`::a.b.c.d`) is
 * reserved even when the address inside is public. IPv6 outside `2000::/3` is reserved.
 */
export function classifyIpAddress(address: IpAddress): IpClass {
  const embedded = embeddedIpv4(address);
  if (embedded) {
    const inner = classifyIpAddress(embedded.address).range;
    return {
      range: embedded.compatible && inner === 'public' ? 'reserved' : inner,
      embedded: embedded.address,
    };
  }
  const name = toLibrary(address).range();
  if (name === 'unicast' && address.version === 6 && !inCidr(address, GLOBAL_UNICAST_V6)) {
    return { range: 'reserved' };
  }
  return { range: LIBRARY_RANGES[name] ?? 'reserved' };
}

interface Embedded {
  readonly address: IpAddress;
  /** The deprecated IPv4-compatible form, which no network routes to the address inside. */
  readonly compatible?: boolean;
}

const ipv4 = (bytes: readonly number[]): IpAddress => ({ version: 4, bytes });

/** Where the IPv6 forms that carry an IPv4 address keep it, by `ipaddr.js` range name. */
const EMBEDDED_IPV4: Readonly<Record<string, (address: IpAddress) => Embedded | undefined>> = {
  ipv4Mapped: ({ bytes }) => ({ address: ipv4(bytes.slice(12)) }),
  rfc6052: (address) => (inCidr(address, NAT64) ? { address: ipv4(address.bytes.slice(12)) } : undefined),
  '6to4': ({ bytes }) => ({ address: ipv4(bytes.slice(2, 6)) }),
  // Teredo stores the client's address with every bit inverted.
  teredo: ({ bytes }) => ({ address: ipv4(bytes.slice(12).map((byte) => byte ^ 0xff)) }),
  unicast: (address) =>
    inCidr(address, IPV4_COMPATIBLE)
      ? { address: ipv4(address.bytes.slice(12)), compatible: true }
      : undefined,
};

function embeddedIpv4(address: IpAddress): Embedded | undefined {
  return address.version === 6 ? EMBEDDED_IPV4[toLibrary(address).range()]?.(address) : undefined;
}

function toLibrary(address: IpAddress): ipaddr.IPv4 | ipaddr.IPv6 {
  return address.version === 4 ? new ipaddr.IPv4([...address.bytes]) : new ipaddr.IPv6([...address.bytes]);
}
