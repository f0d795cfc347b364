/**
 * The local stack's identity provider, run by `make up` beside the services: `node
 * dev-identity-provider-main.js <stack dir> <port>`. It signs with the stack's development
 * issuer and serves the clients `localServiceClients` made, each token for one hour; `make
 * down` stops it. Never part of a deployment, which has an identity provider of its own.
 */
import { LOCAL_SERVICE_CLIENTS, startLocalIdentityProvider } from './dev-identity.js';
import { devIssuer } from './local-apps.js';

const [dir, port] = process.argv.slice(2);
if (!dir || !port) {
  console.error('usage: dev-identity-provider-main <stack dir> <port>');
  process.exit(2);
}
const { provider } = await startLocalIdentityProvider(dir, (await devIssuer(dir)).issuer, Number(port));
process.on('SIGTERM', () => void provider.close().then(() => process.exit(0)));
console.log(`issuing service identities at ${provider.tokenUrl} for ${LOCAL_SERVICE_CLIENTS.join(', ')}`);
