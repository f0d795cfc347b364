/**
 * Contact details as the service keeps and searches them: one normal form each, so the same
 * address typed twice hashes the same.
 */

export const MAX_EMAIL = 254;

/**
 * A lower-cased e-mail address, or undefined when it is not one. Deliberately plain: one
 * `@`, a dotted domain, no spaces or control characters; deliverability is not judged here.
 */
export function normaliseEmail(text: string): string | undefined {
  const email = text.trim().toLowerCase();
  if (email.length > MAX_EMAIL) return undefined;
  if (
    // eslint-disable-next-line no-control-regex -- control characters are what is refused
    !/^[^\s@\u0000-\u001f\u007f]{1,64}@[a-z0-9\u00a1-\uffff](?:[a-z0-9\u00a1-\uffff-]*[a-z0-9\u00a1-\uffff])?(?:\.[a-z0-9\u00a1-\uffff](?:[a-z0-9\u00a1-\uffff-]*[a-z0-9\u00a1-\uffff])?)+$/u.test(
      email,
    )
  ) {
    return undefined;
  }
  return email;
}

/** An E.164 number (`+` and 7 to 15 digits) from what people type: spaces, dashes, brackets, dots. */
export function normalisePhone(text: string): string | undefined {
  const compact = text.trim().replace(/[\s().-]/g, '');
  const international = compact.startsWith('00') ? `+${compact.slice(2)}` : compact;
  return /^\+[1-9][0-9]{6,14}$/.test(international) ? international : undefined;
}
