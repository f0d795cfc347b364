import { readFile } from 'node:fs/promises';
import { agencyFeedFilter, agencyInboxPrefix, mintAgencyUser, type AccountSigner } from '@beacon/platform';
import type { notifyV1 } from '@beacon/proto';
import type { FeedCredentialIssuer } from '../grpc/notify-grpc.js';

/** Mints agencies' feed credentials with the account signing key kept in a file. */
export class FileSignerCredentialIssuer implements FeedCredentialIssuer {
  constructor(
    private readonly signerFile: string,
    private readonly stream: string,
  ) {}

  async issue(agencyId: string, ttlHours: number): Promise<notifyV1.IssueFeedCredentialsResponse> {
    // Read on each use: the key is rotated by replacing the file, and never held longer.
    const signer = JSON.parse(await readFile(this.signerFile, 'utf8')) as AccountSigner;
    const user = await mintAgencyUser(signer, { agencyId, ttlSeconds: ttlHours * 3600 });
    return {
      creds: user.creds,
      inboxPrefix: agencyInboxPrefix(agencyId),
      stream: this.stream,
      filterSubject: agencyFeedFilter(agencyId),
      ...(user.expiresAt ? { expiresAt: user.expiresAt } : {}),
    };
  }
}
