import { normaliseObservable } from '@beacon/domain';

/**
 * IP addresses as bytes, and CIDR blocks, for judging where a webhook may connect. Text is
 * validated and canonicalised by the shared observable rules (`@beacon/domain`), so an address
 * is accepted here exactly when intake would accept it as an indicator: dotted quads without
 * leading zeros, IPv6 without zone ids.
 */
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

/** Parses an IPv4 or IPv6 address (IPv6 optionally in URL brackets); undefined when it is neither. */
export function parseIpAddress(text: string): IpAddress | undefined {
  const v4 = normaliseObservable('ipv4', text);
  if (v4.ok) return { version: 4, bytes: v4.observable.value.split('.').map(Number) };
  const v6 = normaliseObservable('ipv6', text);
  if (v6.ok) return { version: 6, bytes: canonicalIpv6Bytes(v6.observable.value) };
  return undefined;
}

/**
 * Parses `address/prefix`; a bare address stands for itself alone (/32 or /128). Undefined when
 * malformed. Host bits past the prefix are cleared, as the shared CIDR rules do.
 */
export function parseCidr(text: string): Cidr | undefined {
  const trimmed = text.trim();
  if (!trimmed.includes('/')) {
    const base = parseIpAddress(trimmed);
    return base && { base, prefix: base.bytes.length * 8 };
  }
  const cidr = normaliseObservable('cidr', trimmed);
  if (!cidr.ok) return undefined;
  const [address = '', prefix = ''] = cidr.observable.value.split('/');
  const base = parseIpAddress(address);
  return base && { base, prefix: Number(prefix) };
}

/** Whether `address` lies in `cidr`; never across IP versions (see `embeddedIpv4` for that). */
export function inCidr(address: IpAddress, cidr: Cidr): boolean {
  if (address.version !== cidr.base.version) return false;
  for (let bit = 0; bit < cidr.prefix; bit += 8) {
    const keep = Math.min(8, cidr.prefix - bit);
    const mask = (0xff << (8 - keep)) & 0xff;
    if ((address.bytes[bit / 8]! & mask) !== (cidr.base.bytes[bit / 8]! & mask)) return false;
  }
  return true;
}

/** Canonical text: dotted quad, or RFC 5952 IPv6 (`::ffff:a.b.c.d` for mapped addresses). */
export function formatIpAddress(address: IpAddress): string {
  if (address.version === 4) return address.bytes.join('.');
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2)
    groups.push(((address.bytes[i]! << 8) | address.bytes[i + 1]!).toString(16));
  // Round-trip through the shared normaliser rather than repeat its `::` compression rules.
  const text = groups.join(':');
  const canonical = normaliseObservable('ipv6', text);
  return canonical.ok ? canonical.observable.value : text;
}

/** An IPv4 address from its bytes. */
export function ipv4(bytes: readonly number[]): IpAddress {
  return { version: 4, bytes: bytes.slice(0, 4) };
}

/**
 * Expands canonical (RFC 5952) text, which the shared normaliser guarantees: hex groups, at most
 * one `::`, and a dotted quad only as the last 32 bits.
 */
function canonicalIpv6Bytes(canonical: string): number[] {
  let text = canonical;
  const tail: number[] = [];
  const dotted = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (dotted) {
    tail.push(...dotted.slice(1).map(Number));
    text = text.slice(0, dotted.index);
    if (!text.endsWith('::')) text = text.slice(0, -1);
  }
  const [head = '', rest] = text.split('::');
  const groups = (part: string) => (part === '' ? [] : part.split(':').map((g) => parseInt(g, 16)));
  const left = groups(head);
  const right = rest === undefined ? [] : groups(rest);
  const zeros = 8 - left.length - right.length - tail.length / 2;
  const all = [...left, ...Array<number>(Math.max(0, zeros)).fill(0), ...right];
  return [...all.flatMap((g) => [g >> 8, g & 0xff]), ...tail];
}
