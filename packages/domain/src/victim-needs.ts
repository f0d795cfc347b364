/**
 * What a victim may need help with: the kinds a case's needs are assessed in, support
 * organisations declare they serve, and referrals route by. Shared because clients name them
 * too (the CLI checks `--needs` before a call, as the API's enum does).
 */
export const NEED_KINDS = [
  'financial-loss',
  'identity-theft',
  'account-takeover',
  'sextortion',
  'harassment',
  'data-exposure',
  'service-loss',
  'psychological-distress',
] as const;
export type NeedKind = (typeof NEED_KINDS)[number];
