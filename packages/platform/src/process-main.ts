import { createLogger, type Logger, type LoggerConfig } from './logger.js';
import { onShutdown } from './shutdown.js';
import { startTracing } from './tracing.js';

/** What a process's start returns: something it stops on SIGTERM. */
export interface StoppableProcess {
  stop(): Promise<void>;
}

export interface ProcessSpec<C extends { readonly logLevel: LoggerConfig['level'] }> {
  /** e.g. `intake`: the logger's name and the traces' service name. */
  readonly name: string;
  readonly loadConfig: (environment: Readonly<Record<string, string | undefined>>) => C;
  /**
   * Starts the process's parts. `end` runs the same orderly stop as SIGTERM and exits with its
   * code, for a part that died and leaves the process useless; only a process started with
   * `endsItself` may call it before its start returns.
   */
  start(
    config: C,
    logger: Logger,
    end: (exitCode: number, reason: string) => void,
  ): Promise<StoppableProcess>;
  /**
   * The process has a part that may die while the rest starts (the workflows' Temporal worker):
   * the shutdown sequence is in place before the start rather than after it.
   */
  readonly endsItself?: boolean;
}

/**
 * The `main` of every Beacon process: reads its configuration (a bad one ends the process before
 * anything starts), starts tracing first, so clients and servers made from then on are traced
 * when OTEL_* asks for it, then the logger, then the process, and stops it in order on SIGTERM
 * or SIGINT: the process, then tracing (its last spans flushed).
 */
export async function runProcess<C extends { readonly logLevel: LoggerConfig['level'] }>(
  spec: ProcessSpec<C>,
): Promise<void> {
  const config = spec.loadConfig(process.env);
  const tracing = startTracing({ serviceName: spec.name, env: process.env });
  const logger = createLogger({ name: spec.name, level: config.logLevel });
  let stop: () => Promise<void> = async () => {};
  const hooks = [() => tracing.shutdown(), () => stop()];
  let end = spec.endsItself ? onShutdown(logger, hooks) : undefined;
  const running = await spec.start(config, logger, (exitCode, reason) => {
    if (end) return end(exitCode, reason);
    logger.fatal({ reason, exitCode }, 'ended while starting');
    process.exit(exitCode);
  });
  stop = () => running.stop();
  end ??= onShutdown(logger, hooks);
}
