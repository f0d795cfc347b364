/** The victim assistance service: cases, needs, consent, referrals and follow-up, with encrypted personal data. */
export { loadConfig, type VictimsConfig } from './config.js';
export { startVictims, VERSION, type RunningVictims, type VictimsOptions } from './start.js';
export type { CaseCipher, DataKey, SealedField, WrappedKey } from './app/ports.js';
export { EnvelopeCipher, type KeyEncryptionKey } from './adapters/crypto/envelope-cipher.js';
export { referenceFromBytes, parseReference } from './domain/case-reference.js';
/** The case store on its own, for benchmarks that seed and read a store directly. */
export { MongoCaseStore } from './adapters/mongo/case-store.js';
