import { createHmac } from 'node:crypto';
import type { HmacSha256Hex } from '../../domain/webhook-signature.js';

/** The HMAC the signature rules take, from Node's crypto: receivers in Node verify with it too. */
export const hmacSha256Hex: HmacSha256Hex = (secret, message) =>
  createHmac('sha256', secret).update(message, 'utf8').digest('hex');
