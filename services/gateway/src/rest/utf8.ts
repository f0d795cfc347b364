/**
 * Strict UTF-8 for request bodies. Node's `Buffer#toString('utf8')` replaces every invalid
 * sequence with U+FFFD, so two different byte strings read as the same text: what a client
 * signed, hashed or meant is not what is stored. A body that is not UTF-8 is refused instead,
 * with the offset of the first bad byte so the client can find it.
 */

const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

export type Utf8Result =
  { readonly ok: true; readonly text: string } | { readonly ok: false; readonly offset: number };

export function decodeUtf8(bytes: Uint8Array): Utf8Result {
  try {
    return { ok: true, text: decoder.decode(bytes) };
  } catch {
    return { ok: false, offset: firstInvalidUtf8Offset(bytes) };
  }
}

/**
 * The offset of the first byte that starts an ill-formed sequence (RFC 3629: no overlong forms,
 * no surrogates, nothing above U+10FFFF), or -1 when all of `bytes` is well-formed. Only run
 * after the decoder refused the bytes, so a valid body is decoded once.
 */
export function firstInvalidUtf8Offset(bytes: Uint8Array): number {
  let i = 0;
  while (i < bytes.length) {
    const b = bytes[i]!;
    if (b < 0x80) {
      i++;
      continue;
    }
    // The length of the sequence b starts, and the range its second byte must fall in
    // (narrower than 80..BF where overlongs, surrogates or too-large values would follow).
    let length: number;
    let low = 0x80;
    let high = 0xbf;
    if (b >= 0xc2 && b <= 0xdf) length = 2;
    else if (b >= 0xe0 && b <= 0xef) {
      length = 3;
      if (b === 0xe0) low = 0xa0;
      if (b === 0xed) high = 0x9f;
    } else if (b >= 0xf0 && b <= 0xf4) {
      length = 4;
      if (b === 0xf0) low = 0x90;
      if (b === 0xf4) high = 0x8f;
    } else return i;
    if (i + length > bytes.length) return i;
    const second = bytes[i + 1]!;
    if (second < low || second > high) return i;
    for (let k = 2; k < length; k++) {
      const next = bytes[i + k]!;
      if (next < 0x80 || next > 0xbf) return i;
    }
    i += length;
  }
  return -1;
}
