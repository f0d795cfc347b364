import { pino, type Logger, type LoggerOptions } from 'pino';
import { activeSpanIds } from './tracing.js';

export type { Logger } from 'pino';

/**
 * Keys whose values never reach a log line: credentials, and personal data of victims and
 * reporters. Matched at the top of a log object and up to two levels down.
 */
export const REDACTED_KEYS = [
  'authorization',
  'password',
  'secret',
  'token',
  'accessToken',
  'refreshToken',
  'apiKey',
  'privateKey',
  'clientSecret',
  'cookie',
  'credentials',
  'email',
  'phone',
  'fullName',
  'dateOfBirth',
  'address',
  'iban',
  'pii',
] as const;

const redactPaths = REDACTED_KEYS.flatMap((key) => [key, `*.${key}`, `*.*.${key}`]);

export interface LoggerConfig {
  /** The component, e.g. "intake"; every line carries it. */
  readonly name: string;
  readonly level?: LoggerOptions['level'];
  /** Where lines go; stdout when absent. Tests pass a stream to read what was logged. */
  readonly destination?: NodeJS.WritableStream;
}

const NO_IDS = {};

/**
 * The one way Beacon builds a logger: JSON lines, ISO time, secrets and PII censored, and
 * `trace_id`/`span_id` on every line written while a span is active.
 */
export function createLogger({ name, level = 'info', destination }: LoggerConfig): Logger {
  const options: LoggerOptions = {
    name,
    level,
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: { paths: redactPaths, censor: '[redacted]' },
    formatters: { level: (label) => ({ level: label }) },
    mixin: () => activeSpanIds() ?? NO_IDS,
  };
  return destination ? pino(options, destination) : pino(options);
}
