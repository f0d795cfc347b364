/**
 * The local stack's stand-in for a workload identity: every `RENEW_EVERY_MS` it mints the
 * service identities' tokens afresh (12 hours each) into the files the processes read on each
 * call, so a stack left running keeps working with short-lived tokens. In Kubernetes the same
 * role falls to the platform (a projected service-account token, or a secret the identity
 * provider's agent rotates). Run as `node token-renewer.js <stack dir>`; `make down` stops it.
 */
import { renewServiceTokens } from './local-apps.js';

/** Well inside the tokens' 12 hours, so a renewal that fails once is retried long before. */
const RENEW_EVERY_MS = 60 * 60 * 1000;

const dir = process.argv[2];
if (!dir) {
  console.error('usage: token-renewer <stack dir>');
  process.exit(2);
}
const loop = async () => {
  try {
    await renewServiceTokens(dir);
  } catch (error) {
    console.error(`renewing service tokens failed: ${(error as Error).message}`);
  }
};
setInterval(() => void loop(), RENEW_EVERY_MS);
process.on('SIGTERM', () => process.exit(0));
console.log(`renewing the service tokens in ${dir} every ${RENEW_EVERY_MS / 60_000} minutes`);
