import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { infraDir } from './paths.js';

/** PEM files of a throwaway certificate authority and what it signed, for TLS tests. */
export interface TestCertificates {
  readonly dir: string;
  readonly caFile: string;
  /** For `localhost` and 127.0.0.1. */
  readonly serverCertFile: string;
  readonly serverKeyFile: string;
  /** A client certificate (`CN=<clientName>`) for mutual TLS. */
  readonly clientCertFile: string;
  readonly clientKeyFile: string;
  /** A second CA, which signed nothing here: a client trusting only it must refuse the server. */
  readonly otherCaFile: string;
}

/**
 * Makes a CA, a server certificate and a client certificate (P-256, valid one day) under
 * `.infra/test/certs/` with the `openssl` command-line tool, which must be on PATH (about
 * 50 ms; synchronous, so config stand-ins can use it too).
 */
export function createTestCertificates(clientName = 'beacon-test-client'): TestCertificates {
  const root = join(infraDir, 'test', 'certs');
  mkdirSync(root, { recursive: true });
  const dir = mkdtempSync(join(root, 'ca-'));
  const at = (name: string) => join(dir, name);
  const openssl = (...args: string[]) => {
    try {
      execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
    } catch (error) {
      const e = error as NodeJS.ErrnoException & { stderr?: string };
      if (e.code === 'ENOENT')
        throw new Error('TLS tests need the openssl command on PATH', { cause: error });
      throw new Error(`openssl ${args[0]} failed: ${e.stderr ?? e.message}`, { cause: error });
    }
  };
  const newKey = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
  const selfSignedCa = (name: string, cn: string) =>
    openssl(
      'req',
      '-x509',
      ...newKey,
      '-keyout',
      `${name}.key`,
      '-out',
      `${name}.crt`,
      '-days',
      '1',
      '-subj',
      `/CN=${cn}`,
    );
  const issue = (name: string, cn: string, extensions: string) => {
    writeFileSync(at(`${name}.ext`), extensions);
    openssl('req', ...newKey, '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${cn}`);
    openssl(
      'x509',
      '-req',
      '-in',
      `${name}.csr`,
      '-CA',
      'ca.crt',
      '-CAkey',
      'ca.key',
      '-CAcreateserial',
      '-out',
      `${name}.crt`,
      '-days',
      '1',
      '-extfile',
      `${name}.ext`,
    );
  };
  selfSignedCa('ca', 'Beacon test CA');
  selfSignedCa('other-ca', 'Another test CA');
  issue(
    'server',
    'localhost',
    'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\nkeyUsage=critical,digitalSignature\n',
  );
  issue('client', clientName, 'extendedKeyUsage=clientAuth\nkeyUsage=critical,digitalSignature\n');
  return {
    dir,
    caFile: at('ca.crt'),
    serverCertFile: at('server.crt'),
    serverKeyFile: at('server.key'),
    clientCertFile: at('client.crt'),
    clientKeyFile: at('client.key'),
    otherCaFile: at('other-ca.crt'),
  };
}
