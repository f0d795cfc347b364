/** What a field's rule says of a value that breaks it; the request names the field. */
export interface RuleViolation {
  readonly description: string;
  /** UPPER_SNAKE_CASE, for clients to branch on. */
  readonly reason: string;
}

/**
 * The violations of a request field's rules (`beacon.api.v1.field` in proto/), worded once: a
 * service's validator and the gateway, which checks the same rules stated in the OpenAPI
 * document, must name them alike.
 */
export const RULE_VIOLATIONS = {
  required: () => ({ description: 'is required', reason: 'REQUIRED' }),
  tooLong: (max: number) => ({ description: `is longer than ${max} characters`, reason: 'TOO_LONG' }),
  tooMany: (max: number) => ({ description: `at most ${max}`, reason: 'TOO_MANY' }),
  notId: (what: string) => ({ description: `is not ${what}`, reason: 'INVALID_ID' }),
  outOfRange: (min: number, max: number) => ({
    description: `must be ${min} to ${max}`,
    reason: 'OUT_OF_RANGE',
  }),
} as const satisfies Record<string, (...args: never[]) => RuleViolation>;
