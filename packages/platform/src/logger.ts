import { pino, type Logger, type LoggerOptions } from 'pino';
import { censorSecretsInText, redactDeep } from './redact.js';
import { activeSpanIds } from './tracing.js';

export type { Logger } from 'pino';

export interface LoggerConfig {
  /** The component, e.g. "intake"; every line carries it. */
  readonly name: string;
  readonly level?: LoggerOptions['level'];
  /** Where lines go; stdout when absent. Tests pass a stream to read what was logged. */
  readonly destination?: NodeJS.WritableStream;
}

/** An `err` already described by `redactDeep` passes; one set on a child logger is described. */
const errSerializer = (value: unknown) => (value instanceof Error ? redactDeep(value) : value);

/**
 * The one way Beacon builds a logger: JSON lines, ISO time, secrets and PII censored at any
 * depth (`redactDeep`: by key, and JWTs and nkey seeds by their form, in messages too), driver
 * errors without the documents they carry, `trace_id`/`span_id` on every line written
 * while a span is active, and each line on stdout before the call returns.
 */
export function createLogger({ name, level = 'info', destination }: LoggerConfig): Logger {
  const options: LoggerOptions = {
    name,
    level,
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: {
      level: (label) => ({ level: label }),
      bindings: (bindings) => redactDeep(bindings) as Record<string, unknown>,
      log: (object) => redactDeep(object) as Record<string, unknown>,
    },
    serializers: { err: errSerializer },
    hooks: {
      logMethod(args, method) {
        // The message and its interpolation values: a token pasted into a message is one too.
        const censored = args.map((arg) => (typeof arg === 'string' ? censorSecretsInText(arg) : arg));
        method.apply(this, censored as Parameters<typeof method>);
      },
    },
    // A fresh object each time: pino merges the line into what the mixin returns, so a shared
    // one would carry every earlier line's fields into the next.
    mixin: () => activeSpanIds() ?? {},
  };
  // Written synchronously: a line a process logged is in its log even if it is killed the
  // next instant (pino's default buffers, and a SIGKILL lost what was buffered).
  const logger = pino(options, destination ?? pino.destination({ dest: 1, sync: true }));
  // pino applies `formatters.bindings` to the root's bindings only; a child's go through here.
  // Children are made from their parent by prototype, so every descendant inherits this.
  // Unbound on purpose: it is called with the logger the child is made from as `this`.
  // eslint-disable-next-line @typescript-eslint/unbound-method
  const child = logger.child;
  const redactingChild = function (this: Logger, bindings, childOptions) {
    return child.call(this, redactDeep(bindings) as typeof bindings, childOptions);
  } as typeof logger.child;
  logger.child = redactingChild;
  return logger;
}
