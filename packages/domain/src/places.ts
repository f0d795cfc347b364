/**
 * Where an incident hurts: the (sector, jurisdiction) places it touches, each with how Beacon
 * knows it. Engagement and subscriptions match an agency's remit against these places, never
 * against the cross-product of every sector and every jurisdiction the incident mentions: a
 * cascade that took out energy in Germany touches (energy, DE), not energy wherever else the
 * incident was reported.
 */
import { isWithin, parseJurisdiction } from './jurisdiction.js';

/** A sector in a jurisdiction; either may be unknown (a report naming only one of them). */
export interface Place {
  readonly sector?: string | undefined;
  readonly jurisdiction?: string | undefined;
}

/**
 * - `named`: the incident's reports name it;
 * - `reached`: its cascade reaches it (impact's assessment), beyond what the reports name.
 */
export type Reach = 'named' | 'reached';

export interface Touch extends Place {
  readonly how: Reach;
}

/**
 * The places an incident's reports name. A report says which sectors and which jurisdictions
 * it concerns, no finer: each named sector in each named jurisdiction, or one list alone when
 * the other is empty.
 */
export function namedPlaces(sectors: readonly string[], jurisdictions: readonly string[]): Touch[] {
  if (sectors.length === 0) return jurisdictions.map((jurisdiction) => ({ jurisdiction, how: 'named' }));
  if (jurisdictions.length === 0) return sectors.map((sector) => ({ sector, how: 'named' }));
  return sectors.flatMap((sector) =>
    jurisdictions.map((jurisdiction) => ({ sector, jurisdiction, how: 'named' as const })),
  );
}

/** Every place the incident touches: those named, then those only its cascade reaches. */
export function incidentTouches(
  named: { readonly sectors: readonly string[]; readonly jurisdictions: readonly string[] },
  reached: readonly Place[],
): Touch[] {
  const touches = namedPlaces(named.sectors, named.jurisdictions);
  const key = (p: Place) => `${p.sector ?? ''}|${p.jurisdiction ?? ''}`;
  const seen = new Set(touches.map(key));
  for (const place of reached) {
    if (seen.has(key(place))) continue;
    seen.add(key(place));
    touches.push({ sector: place.sector, jurisdiction: place.jurisdiction, how: 'reached' });
  }
  return touches;
}

/**
 * A remit or a filter: sectors and jurisdictions, each list empty for "any". A country covers
 * its subdivisions (`DE` covers `DE-BY`).
 */
export interface Remit {
  readonly sectors?: readonly string[] | undefined;
  readonly jurisdictions?: readonly string[] | undefined;
}

/** Whether the place lies within the remit: its sector listed (or any) and inside a listed jurisdiction (or any). */
export function placeWithin(place: Place, remit: Remit): boolean {
  const sectors = remit.sectors ?? [];
  const jurisdictions = remit.jurisdictions ?? [];
  if (sectors.length > 0 && (place.sector === undefined || !sectors.includes(place.sector))) return false;
  if (jurisdictions.length === 0) return true;
  const inner = place.jurisdiction === undefined ? undefined : parseJurisdiction(place.jurisdiction);
  if (!inner) return false;
  return jurisdictions.some((j) => {
    const outer = parseJurisdiction(j);
    return outer !== undefined && isWithin(inner, outer);
  });
}

/** The touches within the remit, optionally only those the reports name. */
export function touchesWithin(
  touches: readonly Touch[],
  remit: Remit,
  reach: 'named' | 'named-and-reached' = 'named-and-reached',
): Touch[] {
  return touches.filter((t) => (reach === 'named' ? t.how === 'named' : true) && placeWithin(t, remit));
}

/** How a touch reads in a reason: `energy in DE (reached by the cascade)`. */
export function describeTouch(touch: Touch): string {
  const where = [touch.sector, touch.jurisdiction && `in ${touch.jurisdiction}`].filter(Boolean).join(' ');
  return touch.how === 'reached' ? `${where} (reached by the cascade)` : where;
}
