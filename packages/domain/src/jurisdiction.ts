/**
 * Jurisdictions as ISO 3166 codes: a country (ISO 3166-1 alpha-2, e.g. `DE`) or a subdivision
 * of one (ISO 3166-2 form, e.g. `DE-BY`, `US-CA`). Subdivision codes are checked for form and
 * for a valid country, not against the full ISO 3166-2 list.
 */

/** The 249 officially assigned ISO 3166-1 alpha-2 codes. */
const COUNTRIES = new Set(
  `
AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS
BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ EC EE
EG EH ER ES ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM
HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN KP KR KW KY KZ LA LB LC
LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ NA
NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS RU RW
SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO
TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA ZM ZW
`
    .trim()
    .split(/\s+/),
);

export type Jurisdiction = string & { readonly __brand: 'Jurisdiction' };

/** The canonical (upper-case) code, or undefined when it is not an ISO 3166 code. */
export function parseJurisdiction(text: string): Jurisdiction | undefined {
  const code = text.trim().toUpperCase();
  const match = /^([A-Z]{2})(?:-([A-Z0-9]{1,3}))?$/.exec(code);
  if (!match || !COUNTRIES.has(match[1]!)) return undefined;
  return code as Jurisdiction;
}

/** The country part of a jurisdiction: `DE` for `DE-BY`. */
export function countryOf(jurisdiction: Jurisdiction): Jurisdiction {
  return jurisdiction.slice(0, 2) as Jurisdiction;
}

/** Whether `inner` is `outer` or lies within it (`DE-BY` within `DE`). */
export function isWithin(inner: Jurisdiction, outer: Jurisdiction): boolean {
  return inner === outer || (outer.length === 2 && countryOf(inner) === outer);
}

/** EU member states, whose entities fall under NIS2 and CER. */
export const EU_MEMBER_STATES: ReadonlySet<string> = new Set(
  'AT BE BG HR CY CZ DK EE FI FR DE GR HU IE IT LV LT LU MT NL PL PT RO SK SI ES SE'.split(' '),
);
