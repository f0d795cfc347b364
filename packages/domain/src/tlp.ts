/**
 * Traffic Light Protocol 2.0 (FIRST, 2022). Every Beacon object and event carries one label;
 * nothing is shown or sent to an audience wider than its label allows.
 */
export const TLP_LEVELS = ['CLEAR', 'GREEN', 'AMBER', 'AMBER+STRICT', 'RED'] as const;
export type Tlp = (typeof TLP_LEVELS)[number];

/**
 * The widest circle a label lets a recipient share with, per TLP 2.0:
 * - CLEAR: anyone (`public`);
 * - GREEN: peers and partners in the recipient's community, not public channels (`community`);
 * - AMBER: the recipient's organisation and its clients, on a need-to-know basis;
 * - AMBER+STRICT: the recipient's organisation only;
 * - RED: the individual recipients named, nobody else.
 */
export const TLP_AUDIENCES = [
  'public',
  'community',
  'organisation-and-clients',
  'organisation',
  'named-recipients',
] as const;
export type TlpAudience = (typeof TLP_AUDIENCES)[number];

const rank = (tlp: Tlp): number => TLP_LEVELS.indexOf(tlp);

/** Negative when `a` is less restrictive than `b`, zero when equal, positive when more. */
export function compareTlp(a: Tlp, b: Tlp): number {
  return rank(a) - rank(b);
}

/** The more restrictive of the labels: what a combination of sources must carry. */
export function mostRestrictive(first: Tlp, ...rest: readonly Tlp[]): Tlp {
  return rest.reduce((acc, tlp) => (compareTlp(tlp, acc) > 0 ? tlp : acc), first);
}

/** The widest audience a label allows. */
export function widestAudience(tlp: Tlp): TlpAudience {
  return TLP_AUDIENCES[rank(tlp)]!;
}

/** Whether information labelled `tlp` may be shared with `audience`. */
export function mayShareWith(tlp: Tlp, audience: TlpAudience): boolean {
  return TLP_AUDIENCES.indexOf(audience) >= rank(tlp);
}

/** What Beacon knows of a would-be recipient of a labelled object. */
export interface TlpRecipient {
  /** The highest label the recipient's agency is cleared to receive. */
  readonly clearance: Tlp;
  /**
   * Whether the source named this recipient: for RED, only named recipients (in Beacon, the
   * agencies engaged on the incident) may receive, whatever their clearance.
   */
  readonly named: boolean;
}

/** Whether a recipient may receive an object labelled `tlp`. */
export function mayReceive(tlp: Tlp, recipient: TlpRecipient): boolean {
  if (compareTlp(tlp, recipient.clearance) > 0) return false;
  return tlp !== 'RED' || recipient.named;
}

/** Accepts `AMBER+STRICT`, `tlp:amber+strict`, `TLP:WHITE` (1.0's name for CLEAR) and so on. */
export function parseTlp(text: string): Tlp | undefined {
  const bare = text
    .trim()
    .toUpperCase()
    .replace(/^TLP:\s*/, '')
    .replace(/\s+/g, '');
  if (bare === 'WHITE') return 'CLEAR';
  return (TLP_LEVELS as readonly string[]).includes(bare) ? (bare as Tlp) : undefined;
}

/** The label as TLP 2.0 asks it to be written: `TLP:AMBER+STRICT`. */
export function formatTlp(tlp: Tlp): string {
  return `TLP:${tlp}`;
}
