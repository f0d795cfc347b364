/**
 * Observables (indicators) as reports carry them, validated and normalised so that the same
 * indicator always has the same text, whoever reported it and however they wrote it.
 */
import { toASCII } from 'tr46';
import { formatIpAddress, networkOf, parseIpv4, parseIpv6 } from './ip-address.js';

export const OBSERVABLE_TYPES = [
  'ipv4',
  'ipv6',
  'cidr',
  'domain',
  'url',
  'email',
  'md5',
  'sha1',
  'sha256',
  'crypto-wallet',
  'phone',
] as const;
export type ObservableType = (typeof OBSERVABLE_TYPES)[number];

export interface Observable {
  readonly type: ObservableType;
  /** The canonical text; equal observables have equal values. */
  readonly value: string;
  /**
   * The text as the reporter wrote it (defanged, in another case, in Unicode…), when it differs
   * from `value`. It never takes part in equality: {@link observableKey} leaves it out.
   */
  readonly reported?: string | undefined;
}

export type NormaliseResult =
  { readonly ok: true; readonly observable: Observable } | { readonly ok: false; readonly reason: string };

/** Longest raw indicator accepted (a URL can be long; nothing legitimate is longer). */
export const MAX_OBSERVABLE_LENGTH = 2048;

/** `type:value`, the form correlation hashes and indexes use. */
export function observableKey(observable: Observable): string {
  return `${observable.type}:${observable.value}`;
}

export function isObservableType(value: string): value is ObservableType {
  return (OBSERVABLE_TYPES as readonly string[]).includes(value);
}

/** Validates `raw` as an observable of `type` and returns its canonical form, or why not. */
export function normaliseObservable(type: string, raw: string): NormaliseResult {
  if (!isObservableType(type)) return fail(`unknown observable type "${type}"`);
  if (raw.length > MAX_OBSERVABLE_LENGTH) return fail(`longer than ${MAX_OBSERVABLE_LENGTH} characters`);
  const text = raw.trim();
  if (text === '') return fail('empty');
  const value = NORMALISERS[type](text);
  return typeof value === 'string' ? { ok: true, observable: { type, value } } : value;
}

type Normaliser = (text: string) => string | { ok: false; reason: string };
const fail = (reason: string) => ({ ok: false as const, reason });

const NORMALISERS: Record<ObservableType, Normaliser> = {
  ipv4: (text) => {
    const address = parseIpv4(text);
    return address ? formatIpAddress(address) : fail('not a dotted-quad IPv4 address (no leading zeros)');
  },
  ipv6: (text) => {
    const address = parseIpv6(text.replace(/^\[(.*)\]$/, '$1'));
    return address ? formatIpAddress(address) : fail('not an IPv6 address');
  },
  cidr: normaliseCidr,
  domain: (text) => normaliseDomain(text) ?? fail('not a valid domain name'),
  url: normaliseUrl,
  email: normaliseEmail,
  md5: (text) => hexDigest(text, 32, 'MD5'),
  sha1: (text) => hexDigest(text, 40, 'SHA-1'),
  sha256: (text) => hexDigest(text, 64, 'SHA-256'),
  'crypto-wallet': normaliseWallet,
  phone: normalisePhone,
};

function normaliseCidr(text: string) {
  const match = /^([^/]+)\/(\d{1,3})$/.exec(text);
  if (!match) return fail('not in address/prefix form');
  const prefix = Number(match[2]);
  const address = parseIpv4(match[1]!) ?? parseIpv6(match[1]!);
  if (!address) return fail('the address is neither IPv4 nor IPv6');
  const bits = address.bytes.length * 8;
  if (prefix > bits) return fail(`an IPv${address.version} prefix is at most ${bits}`);
  return `${formatIpAddress(networkOf(address, prefix).base)}/${prefix}`;
}

const UTS46 = {
  transitionalProcessing: false,
  checkBidi: true,
  checkJoiners: true,
  checkHyphens: false,
  useSTD3ASCIIRules: false,
  verifyDNSLength: false,
} as const;

/**
 * UTS #46 processing, as browsers apply it to a host: mapped (case folded, full-width and
 * compatibility forms folded, ideographic full stops as dots, ignorable characters dropped),
 * validated, and internationalised labels as A-labels (`xn--`); then no trailing root dot, and
 * the DNS rules below. The options are the WHATWG URL standard's: non-transitional (`ß` stays
 * `ß`, as IDNA2008 registries have it), bidi and joiner rules checked, hyphen positions not
 * (`r3---sn-x.googlevideo.com` is a real host). STD3 rules are off so that `_dmarc` and other
 * underscore labels pass; the label pattern below then admits only letters, digits, `-` and `_`.
 */
export function normaliseDomain(text: string): string | undefined {
  const ascii = toASCII(text, UTS46)?.replace(/\.$/, '');
  if (!ascii) return undefined;
  const labels = ascii.split('.');
  if (labels.length < 2 || ascii.length > 253) return undefined;
  if (!labels.every((label) => /^(?!-)[a-z0-9_-]{1,63}(?<!-)$/.test(label))) return undefined;
  if (/^\d+$/.test(labels.at(-1)!)) return undefined; // that is an IP address, not a name
  return ascii;
}

const DEFAULT_PORTS: Readonly<Record<string, string>> = {
  http: '80',
  https: '443',
  ftp: '21',
  ws: '80',
  wss: '443',
};

/**
 * RFC 3986 normalisation: scheme and host in lower case (IDN hosts in Punycode), default port
 * dropped, dot segments resolved, percent-escapes in upper case and unreserved ones decoded,
 * an empty path as `/`, the fragment dropped (it never reaches a server).
 */
function normaliseUrl(text: string) {
  const match = /^([a-z][a-z0-9+.-]*):\/\/([^/?#]*)([^?#]*)(\?[^#]*)?(?:#.*)?$/i.exec(text);
  if (!match) return fail('not an absolute URL with a host (scheme://host/…)');
  const scheme = match[1]!.toLowerCase();
  const authority = /^(?:([^@]*)@)?(\[[^\]]+\]|[^:]*)(?::(\d*))?$/.exec(match[2]!);
  if (!authority) return fail('malformed host or port');
  const [, userinfo, rawHost = '', port] = authority;
  let host: string | undefined;
  if (rawHost.startsWith('[')) {
    const v6 = parseIpv6(rawHost.slice(1, -1));
    host = v6 && `[${formatIpAddress(v6)}]`;
  } else {
    const v4 = parseIpv4(rawHost);
    host = v4 ? formatIpAddress(v4) : normaliseDomain(decodePercent(rawHost));
  }
  if (!host) return fail(`"${rawHost}" is not a valid host`);
  if (port !== undefined && port !== '' && (Number(port) > 65_535 || !/^\d{1,5}$/.test(port))) {
    return fail('the port is not a number from 0 to 65535');
  }
  const keepPort = port && port !== DEFAULT_PORTS[scheme] ? `:${Number(port)}` : '';
  const path = removeDotSegments(normaliseEscapes(match[3] || '/'));
  const query = match[4] === undefined ? '' : normaliseEscapes(match[4]);
  const user = userinfo === undefined ? '' : `${normaliseEscapes(userinfo)}@`;
  return `${scheme}://${user}${host}${keepPort}${path || '/'}${query}`;
}

const UNRESERVED = /[A-Za-z0-9\-._~]/;

/** Upper-case escapes, decode the unreserved ones, escape what may not stand bare. */
function normaliseEscapes(part: string): string {
  return part
    .replace(/%([0-9a-fA-F]{2})/g, (_, hex: string) => {
      const ch = String.fromCharCode(parseInt(hex, 16));
      return UNRESERVED.test(ch) ? ch : `%${hex.toUpperCase()}`;
    })
    .replace(/[^A-Za-z0-9\-._~!$&'()*+,;=:@/?%]/gu, (ch) => encodeURIComponent(ch))
    .replace(/%(?![0-9A-F]{2})/g, '%25');
}

function decodePercent(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/** RFC 3986 section 5.2.4. */
function removeDotSegments(path: string): string {
  const out: string[] = [];
  const segments = path.split('/');
  for (const [i, segment] of segments.entries()) {
    const last = i === segments.length - 1;
    if (segment === '.' || segment === '..') {
      if (segment === '..' && out.length > 1) out.pop();
      if (last) out.push('');
    } else {
      out.push(segment);
    }
  }
  return out.join('/');
}

function normaliseEmail(text: string) {
  const at = text.lastIndexOf('@');
  if (at <= 0) return fail('not an email address (local@domain)');
  const local = text.slice(0, at);
  const domain = normaliseDomain(text.slice(at + 1));
  if (!domain) return fail('the domain part is not a valid domain name');
  if (
    local.length > 64 ||
    !/^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*$/.test(local)
  ) {
    return fail('the local part is not a valid dot-atom of at most 64 characters');
  }
  // Mailbox names are case-insensitive at every provider that matters for abuse reports.
  const value = `${local.toLowerCase()}@${domain}`;
  return value.length <= 254 ? value : fail('longer than 254 characters');
}

function hexDigest(text: string, length: number, name: string) {
  const hex = text.toLowerCase();
  return new RegExp(`^[0-9a-f]{${length}}$`).test(hex)
    ? hex
    : fail(`not a ${name} digest (${length} hex digits)`);
}

const BASE58 = '[1-9A-HJ-NP-Za-km-z]';

/**
 * `chain:address` for Bitcoin (base58 or bech32/bech32m with its checksum checked), Ethereum
 * (lower-cased; the mixed-case form is only a checksum) and Monero.
 */
function normaliseWallet(text: string) {
  if (/^0x[0-9a-f]{40}$/i.test(text)) return `ethereum:${text.toLowerCase()}`;
  if (/^bc1/i.test(text)) {
    if (text !== text.toLowerCase() && text !== text.toUpperCase()) return fail('bech32 may not mix cases');
    const lower = text.toLowerCase();
    return bech32Valid(lower) ? `bitcoin:${lower}` : fail('not a valid bech32 Bitcoin address (checksum)');
  }
  if (new RegExp(`^[13]${BASE58}{25,34}$`).test(text)) return `bitcoin:${text}`;
  if (new RegExp(`^[48]${BASE58}{94}$`).test(text)) return `monero:${text}`;
  return fail('not a recognised Bitcoin, Ethereum or Monero address');
}

const BECH32_CHARSET = 'qpzry9x8gf2tvdw0s3jn54khce6mua7l';

function bech32Valid(address: string): boolean {
  const sep = address.lastIndexOf('1');
  if (sep < 1 || address.length - sep < 7 || address.length > 90) return false;
  const hrp = address.slice(0, sep);
  const data = [...address.slice(sep + 1)].map((c) => BECH32_CHARSET.indexOf(c));
  if (data.some((d) => d < 0)) return false;
  const GEN = [0x3b6a57b2, 0x26508e6d, 0x1ea119fa, 0x3d4233dd, 0x2a1462b3];
  let chk = 1;
  const values = [
    ...[...hrp].map((c) => c.charCodeAt(0) >> 5),
    0,
    ...[...hrp].map((c) => c.charCodeAt(0) & 31),
    ...data,
  ];
  for (const v of values) {
    const top = chk >>> 25;
    chk = ((chk & 0x1ffffff) << 5) ^ v;
    for (let i = 0; i < 5; i++) if ((top >>> i) & 1) chk ^= GEN[i]!;
  }
  // 1 for bech32 (segwit v0), 0x2bc830a3 for bech32m (v1+, e.g. taproot).
  return chk === 1 || chk === 0x2bc830a3;
}

/** E.164: `+` then country code and number, 8 to 15 digits; `00` as international prefix. */
function normalisePhone(text: string) {
  const compact = text.replace(/[\s\-().\u00a0/]/g, '').replace(/^00/, '+');
  if (!compact.startsWith('+')) return fail('needs the country code (+… or 00…)');
  return /^\+[1-9]\d{7,14}$/.test(compact) ? compact : fail('not an E.164 number (8 to 15 digits)');
}
