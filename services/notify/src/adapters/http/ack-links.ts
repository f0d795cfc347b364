import { signAckLink, type AckLinkClaims } from '../../domain/ack-link.js';
import { hmacSha256Hex } from '../delivery/hmac.js';

/** Builds the signed acknowledgement links notifications carry. */
export class AckLinks {
  constructor(
    private readonly options: {
      /** Where notify's acknowledgement page is reached from outside, e.g. `https://beacon.example`. */
      readonly baseUrl: string;
      /** Secret; at least 32 characters. */
      readonly secret: string;
      readonly ttlSeconds: number;
      readonly now: () => Date;
    },
  ) {}

  url(agencyId: string, incidentId: string, via: AckLinkClaims['via']): string {
    const expires = Math.floor(this.options.now().getTime() / 1000) + this.options.ttlSeconds;
    const query = signAckLink({ agencyId, incidentId, via, expires }, this.options.secret, hmacSha256Hex);
    return `${this.options.baseUrl.replace(/\/$/, '')}/ack?${query.toString()}`;
  }
}
