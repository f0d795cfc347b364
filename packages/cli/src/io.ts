/** Anything text can be written to: a process stream, or a string collector in tests. */
export interface Output {
  write(text: string): unknown;
}

/** The CLI's whole view of its process, so `run` can be driven in-process by tests. */
export interface Io {
  readonly stdout: Output;
  readonly stderr: Output;
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Whether stderr is a terminal: progress then redraws one bar instead of printing lines. */
  readonly isTTY?: boolean;
  /** Directory that relative file paths resolve against; the process's own when absent. */
  readonly cwd?: string;
}

/** The command line was wrong, or its input unusable, and nothing was sent: exit code 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
  /** @param help - The help command to point to, when not the failing command's own. */
  constructor(
    message: string,
    readonly help?: string,
  ) {
    super(message);
  }
}

/** The command could not do its work, for a reason already worded for the user: exit code 1. */
export class CliError extends Error {
  override readonly name = 'CliError';
}
