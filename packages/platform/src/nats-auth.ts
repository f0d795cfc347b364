// How the NATS client authenticates, as configuration describes it. Types only, so that the
// configuration module needs nothing of the NATS client (which needs the logger, which needs
// tracing, which reads configuration).

/**
 * How the client proves who it is. Secrets are readers, called on each (re)connect: a rotated
 * file is picked up, and no value sits where a log line could print it.
 */
export type NatsAuth =
  /** A `.creds` file: the user's JWT and NKey seed (a server in operator mode). */
  | { readonly kind: 'creds'; readonly file: string }
  | { readonly kind: 'user'; readonly user: string; readonly password: () => string }
  | { readonly kind: 'token'; readonly token: () => string };

/** PEM files, loaded by the client on each (re)connect. Setting any makes TLS required. */
export interface NatsTls {
  /** Client certificate and key, for a server that verifies clients (mutual TLS). */
  readonly certFile?: string;
  readonly keyFile?: string;
  /** The CA the server's certificate must chain to. */
  readonly caFile?: string;
}
