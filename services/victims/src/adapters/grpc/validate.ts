import { parseJurisdiction, type Jurisdiction } from '@beacon/domain';
import { protoFieldName, RequestValidator } from '@beacon/platform';
import { FIELD_RULES, victimsV1 } from '@beacon/proto';
import { normaliseEmail, normalisePhone } from '../../domain/contact.js';
import { REPORT_ID, type Need, type RiskFlag, type Victim } from '../../domain/model.js';
import { needProblems } from '../../domain/needs.js';
import type { ConsentInput } from '../../app/case-work.js';
import type { NewCaseInput } from '../../app/open-cases.js';
import { codecs, type EnumCodec } from '../proto-mapping.js';

/**
 * The limits of the victims service's request fields, declared in proto/ (`beacon.api.v1.field`)
 * and read here from the generated table: the gateway's OpenAPI document states the same.
 */
export const RULES = FIELD_RULES['beacon.victims.v1'];

/**
 * Limits that are not declared in proto/. A new case and its victim are rows of ImportCases
 * too, which reports a row's violations in its reply and imports the other rows, where a rule
 * in proto/ would have the gateway refuse the whole batch. The others are worded unlike a
 * field rule (a count from 1, a capacity's reason).
 */
export const LIMITS = {
  incidentIds: 20,
  reportIds: 50,
  name: 200,
  notes: 4_000,
  consents: 6,
  jurisdictions: 50,
  languages: 20,
  capacity: 100_000,
} as const;

/** The page size of the case and audit listings when the client sets none. */
export const DEFAULT_PAGE_SIZE = 100;

const WORDING_VERSION = /^[A-Za-z0-9._-]{1,64}$/;
const LANGUAGE = /^[a-z]{2}$/;

/** The proto oneof field of each need kind, for field paths. */
const NEED_FIELD: Record<Need['kind'], string> = {
  'financial-loss': 'financial_loss',
  'identity-theft': 'identity_theft',
  'account-takeover': 'account_takeover',
  sextortion: 'sextortion',
  harassment: 'harassment',
  'data-exposure': 'data_exposure',
  'service-loss': 'service_loss',
  'psychological-distress': 'psychological_distress',
};

/** The platform's request validation, with the checks of cases, victims and their needs. */
export class Validator extends RequestValidator {
  enumValue<T extends string>(field: string, codec: EnumCodec<T>, value: number): T | undefined {
    return (
      codec.fromProto(value) ??
      this.fail(field, `must be one of ${codec.values.length} defined values`, 'REQUIRED')
    );
  }

  enumValues<T extends string>(field: string, codec: EnumCodec<T>, values: readonly number[]): T[] {
    if (values.length > codec.values.length) {
      this.fail(field, `at most ${codec.values.length}, each once`, 'TOO_MANY');
      return [];
    }
    const out: T[] = [];
    values.forEach((v, i) => {
      const value = this.enumValue(`${field}[${i}]`, codec, v);
      if (value === undefined) return;
      if (out.includes(value)) this.fail(`${field}[${i}]`, 'is given twice', 'DUPLICATE');
      else out.push(value);
    });
    return out;
  }

  jurisdiction(field: string, value: string): Jurisdiction | undefined {
    return (
      parseJurisdiction(value) ??
      this.fail(field, 'is not an ISO 3166 code, e.g. DE or DE-BY', 'INVALID_JURISDICTION')
    );
  }

  language(field: string, value: string): string | undefined {
    const v = value.trim().toLowerCase();
    return LANGUAGE.test(v) ? v : this.fail(field, 'is not an ISO 639-1 code, e.g. de', 'INVALID_LANGUAGE');
  }

  /** A new case, whole: every field checked, the needs against the assessment's rules. */
  newCase(prefix: string, c: victimsV1.NewCase | undefined, now: Date): NewCaseInput | undefined {
    if (!c) return this.fail(prefix, 'is required', 'REQUIRED');
    const at = (f: string) => `${prefix}.${f}`;
    const before = this.violations.length;
    // Incident ids of the shape ListCases filters by.
    const { pattern, what } = RULES.ListCasesRequest.incidentId;
    const incidentIds = this.ids(at('incident_ids'), c.incidentIds, {
      pattern,
      what,
      maxItems: LIMITS.incidentIds,
    });
    const reportIds = this.ids(at('report_ids'), c.reportIds, {
      pattern: REPORT_ID,
      what: 'a report id',
      maxItems: LIMITS.reportIds,
    });
    if (c.incidentIds.length === 0 && c.reportIds.length === 0) {
      this.fail(at('incident_ids'), 'a case names at least one incident or report', 'REQUIRED');
    }
    const jurisdiction = this.jurisdiction(at('jurisdiction'), c.jurisdiction);
    const language = this.language(at('language'), c.language);
    const consents = this.consents(at('consents'), c.consents);
    const victim = this.victim(at('victim'), c.victim, consents);
    // The list AssessNeeds replaces later, so its limit.
    const needs = this.needs(at('needs'), c.needs, now, RULES.AssessNeedsRequest.needs);
    const riskFlags = this.riskFlags(at('risk_flags'), c.riskFlags);
    if (this.violations.length > before || !jurisdiction || !language || !victim) return undefined;
    return { incidentIds, reportIds, jurisdiction, language, victim, needs, riskFlags, consents };
  }

  /**
   * The victim's details. Only what support needs is kept, and contact details only with
   * consent to contact: without it they serve no purpose.
   */
  victim(
    prefix: string,
    v: victimsV1.Victim | undefined,
    /** The request's consents; `checked-later` when the case's own consent decides. */
    consents: readonly ConsentInput[] | 'checked-later',
  ): Victim | undefined {
    if (!v) return this.fail(prefix, 'is required', 'REQUIRED');
    const at = (f: string) => `${prefix}.${f}`;
    const kind = this.enumValue(at('kind'), codecs.victimKind, v.kind);
    const displayName = this.text(at('display_name'), v.displayName, { maxLength: LIMITS.name });
    const organisationName = this.text(at('organisation_name'), v.organisationName, {
      maxLength: LIMITS.name,
      required: kind === 'small-organisation',
    });
    if (kind === 'person' && organisationName) {
      this.fail(at('organisation_name'), 'is for small organisations only', 'NOT_NEEDED');
    }
    const email =
      v.email.trim() === ''
        ? ''
        : (normaliseEmail(v.email) ?? this.fail(at('email'), 'is not an e-mail address', 'INVALID_EMAIL'));
    const phone =
      v.phone.trim() === ''
        ? ''
        : (normalisePhone(v.phone) ??
          this.fail(
            at('phone'),
            'is not a phone number in international form, e.g. +49 151 12345678',
            'INVALID_PHONE',
          ));
    const channel =
      Number(v.preferredChannel) === 0
        ? undefined
        : this.enumValue(at('preferred_channel'), codecs.contactChannel, v.preferredChannel);
    const contact =
      consents === 'checked-later' || consents.some((c) => c.purpose === 'contact' && c.granted);
    // Judged on what was sent, valid or not: contact details have no place here without consent.
    const sent = v.email.trim() !== '' || v.phone.trim() !== '' || Number(v.preferredChannel) !== 0;
    if (sent && !contact) {
      this.fail(
        prefix,
        'contact details are kept only with the victim’s consent to contact: record it, or leave them out',
        'CONSENT_REQUIRED',
      );
    }
    // An invalid address was reported already; only a missing one is inconsistent.
    if (channel === 'email' && email === '')
      this.fail(at('preferred_channel'), 'e-mail needs an e-mail address', 'INCONSISTENT');
    if ((channel === 'phone' || channel === 'sms') && phone === '') {
      this.fail(at('preferred_channel'), `${channel} needs a phone number`, 'INCONSISTENT');
    }
    const notes = this.text(at('notes'), v.notes, { maxLength: LIMITS.notes, multiline: true });
    if (!kind || email === undefined || phone === undefined) return undefined;
    return { kind, displayName, organisationName, email, phone, preferredChannel: channel, notes };
  }

  consents(prefix: string, list: readonly victimsV1.ConsentInput[]): ConsentInput[] {
    if (list.length > LIMITS.consents) {
      this.fail(prefix, `at most ${LIMITS.consents}`, 'TOO_MANY');
      return [];
    }
    const out: ConsentInput[] = [];
    list.forEach((c, i) => {
      const consent = this.consent(`${prefix}[${i}]`, c);
      if (!consent) return;
      if (out.some((o) => o.purpose === consent.purpose))
        this.fail(`${prefix}[${i}].purpose`, 'is given twice', 'DUPLICATE');
      else out.push(consent);
    });
    return out;
  }

  consent(prefix: string, c: victimsV1.ConsentInput | undefined): ConsentInput | undefined {
    if (!c) return this.fail(prefix, 'is required', 'REQUIRED');
    const purpose = this.enumValue(`${prefix}.purpose`, codecs.consentPurpose, c.purpose);
    if (!WORDING_VERSION.test(c.wordingVersion)) {
      this.fail(
        `${prefix}.wording_version`,
        'is required: letters, digits and ._- (at most 64), naming the wording shown',
        'REQUIRED',
      );
      return undefined;
    }
    return purpose ? { purpose, granted: c.granted, wordingVersion: c.wordingVersion } : undefined;
  }

  riskFlags(field: string, values: readonly number[]): RiskFlag[] {
    return this.enumValues(field, codecs.riskFlag, values);
  }

  /** The needs, each with the details of its kind, then the assessment's own rules. */
  needs(
    prefix: string,
    list: readonly victimsV1.Need[],
    now: Date,
    rule: { readonly maxItems: number },
  ): Need[] {
    if (!this.atMost(prefix, list, rule)) return [];
    const needs: Need[] = [];
    const positions: number[] = [];
    list.forEach((n, i) => {
      const need = this.need(`${prefix}[${i}]`, n);
      if (need) {
        needs.push(need);
        positions.push(i);
      }
    });
    for (const p of needProblems(needs, now)) {
      const i = positions[p.index]!;
      const kind = NEED_FIELD[needs[p.index]!.kind];
      this.fail(
        p.field ? `${prefix}[${i}].${kind}.${protoFieldName(p.field)}` : `${prefix}[${i}]`,
        p.message,
        'NEED_RULE',
      );
    }
    return needs;
  }

  need(prefix: string, n: victimsV1.Need): Need | undefined {
    const d = n.detail;
    if (!d) return this.fail(prefix, 'names no need: set one of its details', 'REQUIRED');
    switch (d.$case) {
      case 'financialLoss': {
        const at = `${prefix}.financial_loss`;
        const method = this.enumValue(`${at}.payment_method`, codecs.paymentMethod, d.value.paymentMethod);
        const amount = /^[0-9]{1,13}$/.test(d.value.amountMinor) ? Number(d.value.amountMinor) : Number.NaN;
        if (Number.isNaN(amount))
          this.fail(`${at}.amount_minor`, 'must be a whole number from 1 to 10^12', 'INVALID');
        if (!method || Number.isNaN(amount)) return undefined;
        return {
          kind: 'financial-loss',
          amountMinor: amount,
          currency: d.value.currency.trim().toUpperCase(),
          paymentMethod: method,
          paidAt: d.value.paidAt && Number.isFinite(d.value.paidAt.getTime()) ? d.value.paidAt : undefined,
        };
      }
      case 'identityTheft':
        return {
          kind: 'identity-theft',
          documents: this.enumValues(
            `${prefix}.identity_theft.documents`,
            codecs.identityDocument,
            d.value.documents,
          ),
          misuseSeen: d.value.misuseSeen,
        };
      case 'accountTakeover':
        return {
          kind: 'account-takeover',
          accounts: this.enumValues(
            `${prefix}.account_takeover.accounts`,
            codecs.accountKind,
            d.value.accounts,
          ),
          lockedOut: d.value.lockedOut,
        };
      case 'sextortion':
        return { kind: 'sextortion', ongoing: d.value.ongoing, paymentDemanded: d.value.paymentDemanded };
      case 'harassment':
        return { kind: 'harassment', ongoing: d.value.ongoing, offlineThreats: d.value.offlineThreats };
      case 'dataExposure': {
        const field = `${prefix}.data_exposure.categories`;
        const categories = this.enumValues(field, codecs.dataCategory, d.value.categories);
        if (d.value.categories.length === 0)
          this.fail(field, 'name at least one category of data', 'REQUIRED');
        return { kind: 'data-exposure', categories };
      }
      case 'serviceLoss': {
        const service = this.enumValue(
          `${prefix}.service_loss.service`,
          codecs.essentialService,
          d.value.service,
        );
        return service ? { kind: 'service-loss', service, vital: d.value.vital } : undefined;
      }
      case 'psychologicalDistress': {
        const at = `${prefix}.psychological_distress`;
        const instrument = this.enumValue(`${at}.instrument`, codecs.screeningInstrument, d.value.instrument);
        return instrument ? { kind: 'psychological-distress', instrument, score: d.value.score } : undefined;
      }
    }
  }
}

/**
 * The bytes an idempotency key guards: the case alone, so that a case opened by OpenCase and
 * the same case imported under the same key as its `client_ref` are one and the same.
 */
export function caseBytes(request: victimsV1.NewCase | undefined): Uint8Array {
  return victimsV1.NewCase.encode(request ?? victimsV1.NewCase.fromPartial({})).finish();
}
