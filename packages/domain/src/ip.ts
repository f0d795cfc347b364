/** IPv4 and IPv6 parsing and canonical text forms (RFC 5952 for IPv6). */

/** Four octets, or undefined when `text` is not a dotted-quad IPv4 address. */
export function parseIpv4(text: string): number[] | undefined {
  const parts = text.split('.');
  if (parts.length !== 4) return undefined;
  const octets: number[] = [];
  for (const part of parts) {
    // No leading zeros: "010" means 8 to some parsers and 10 to others.
    if (!/^(0|[1-9]\d{0,2})$/.test(part)) return undefined;
    const value = Number(part);
    if (value > 255) return undefined;
    octets.push(value);
  }
  return octets;
}

/** Eight 16-bit groups, or undefined when `text` is not an IPv6 address. */
export function parseIpv6(text: string): number[] | undefined {
  let head = text.toLowerCase();
  if (head.includes('%')) return undefined; // zone ids only mean something on one host
  // An embedded IPv4 address stands for the last two groups, e.g. ::ffff:192.0.2.1
  let tail: number[] = [];
  const lastColon = head.lastIndexOf(':');
  if (lastColon >= 0 && head.includes('.', lastColon)) {
    const v4 = parseIpv4(head.slice(lastColon + 1));
    if (!v4) return undefined;
    tail = [(v4[0]! << 8) | v4[1]!, (v4[2]! << 8) | v4[3]!];
    head = head.slice(0, lastColon + 1);
    if (!head.endsWith('::')) head = head.slice(0, -1);
  }
  const halves = head.split('::');
  if (halves.length > 2) return undefined;
  const parseGroups = (s: string): number[] | undefined => {
    if (s === '') return [];
    const groups = s.split(':');
    if (groups.some((g) => !/^[0-9a-f]{1,4}$/.test(g))) return undefined;
    return groups.map((g) => parseInt(g, 16));
  };
  const left = parseGroups(halves[0]!);
  const right = halves.length === 2 ? parseGroups(halves[1]!) : [];
  if (!left || !right) return undefined;
  const present = left.length + right.length + tail.length;
  if (halves.length === 2) {
    if (present > 7) return undefined;
    return [...left, ...Array<number>(8 - present).fill(0), ...right, ...tail];
  }
  return present === 8 ? [...left, ...tail] : undefined;
}

export function formatIpv4(octets: readonly number[]): string {
  return octets.join('.');
}

/** RFC 5952: lower case, no leading zeros, the longest run (≥ 2) of zero groups as `::`. */
export function formatIpv6(groups: readonly number[]): string {
  if (groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff) {
    return `::ffff:${formatIpv4([groups[6]! >> 8, groups[6]! & 255, groups[7]! >> 8, groups[7]! & 255])}`;
  }
  let bestStart = -1;
  let bestLength = 1;
  for (let i = 0; i < 8;) {
    if (groups[i] !== 0) {
      i += 1;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j += 1;
    if (j - i > bestLength) [bestStart, bestLength] = [i, j - i];
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart < 0) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLength).join(':')}`;
}

/** Clears the bits past `prefix` of an address given as groups of `bits` bits each. */
export function maskHostBits(groups: readonly number[], bits: number, prefix: number): number[] {
  return groups.map((group, i) => {
    const keep = Math.max(0, Math.min(bits, prefix - i * bits));
    return keep === 0 ? 0 : group & (((1 << bits) - 1) ^ ((1 << (bits - keep)) - 1));
  });
}
