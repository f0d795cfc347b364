/**
 * The reference a victim holds for their case, e.g. `VC-7K3M-Q9XD-2HPA-R4TB`: 15 random
 * symbols (75 bits: not guessable, even at a million tries a second for a century) and a
 * check symbol, in Crockford's base 32, which has no I, L, O or U, so nothing reads as
 * something else on paper or over the phone. The check symbol (Luhn mod 32) catches every
 * single mistyped symbol and most swapped neighbours before a lookup is wasted on them.
 */

const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
const N = ALPHABET.length;
export const REFERENCE_RANDOM_SYMBOLS = 15;
const PREFIX = 'VC';

function checkSymbol(symbols: readonly number[]): number {
  let factor = 2;
  let sum = 0;
  for (let i = symbols.length - 1; i >= 0; i--) {
    let addend = factor * symbols[i]!;
    factor = factor === 2 ? 1 : 2;
    addend = Math.floor(addend / N) + (addend % N);
    sum += addend;
  }
  return (N - (sum % N)) % N;
}

function format(symbols: readonly number[]): string {
  const text = symbols.map((s) => ALPHABET[s]).join('');
  return `${PREFIX}-${text.slice(0, 4)}-${text.slice(4, 8)}-${text.slice(8, 12)}-${text.slice(12, 16)}`;
}

/**
 * A reference from at least 15 random bytes (each gives 5 bits; 256 is a multiple of 32, so
 * every symbol is equally likely).
 */
export function referenceFromBytes(bytes: Uint8Array): string {
  if (bytes.length < REFERENCE_RANDOM_SYMBOLS) {
    throw new RangeError(`a reference needs ${REFERENCE_RANDOM_SYMBOLS} random bytes`);
  }
  const symbols = Array.from(bytes.subarray(0, REFERENCE_RANDOM_SYMBOLS), (b) => b & (N - 1));
  return format([...symbols, checkSymbol(symbols)]);
}

export type ParsedReference =
  { readonly ok: true; readonly reference: string } | { readonly ok: false; readonly reason: string };

/**
 * Reads a reference as a person may type it: any case, with or without the `VC` prefix,
 * spaces or dashes; O is read as 0, I and L as 1. Returns the canonical form.
 */
export function parseReference(text: string): ParsedReference {
  if (text.length > 64) return { ok: false, reason: 'is too long to be a case reference' };
  let compact = text.toUpperCase().replace(/[\s-]/g, '');
  if (compact.startsWith(PREFIX) && compact.length === PREFIX.length + 16)
    compact = compact.slice(PREFIX.length);
  compact = compact.replace(/O/g, '0').replace(/[IL]/g, '1');
  if (compact.length !== 16) return { ok: false, reason: 'must have 16 letters and digits after VC' };
  const symbols: number[] = [];
  for (const c of compact) {
    const value = ALPHABET.indexOf(c);
    if (value < 0) return { ok: false, reason: `"${c}" does not occur in case references` };
    symbols.push(value);
  }
  if (checkSymbol(symbols.slice(0, 15)) !== symbols[15]) {
    return { ok: false, reason: 'has a typing mistake (its check symbol does not match)' };
  }
  return { ok: true, reference: format(symbols) };
}
