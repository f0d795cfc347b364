import { agencyMayReceive, mayChangeOrganisationField, mayEditOrganisation, mayRead } from '@beacon/domain';
import {
  canActForAgency,
  canListAgencies,
  canManageAgency,
  canReadAgency,
  canReadDeliveries,
  canRegisterAgencies,
  type Caller,
} from '../domain/access.js';
import type { Agency } from '../domain/agency.js';
import type { Subscription } from '../domain/subscription.js';
import type { AccessWithdrawals } from './access-withdrawals.js';
import { NotifyError } from './errors.js';
import type {
  Acknowledgement,
  AcknowledgementStore,
  AgencyStore,
  Clock,
  DeliveryLog,
  DeliveryRecord,
  IncidentFactsStore,
  StoredAgency,
} from './ports.js';

export const MAX_SUBSCRIPTIONS_PER_AGENCY = 50;

/** Every registry field but the id, so that a field added later cannot escape the comparison. */
const AGENCY_FIELDS: Record<Exclude<keyof Agency, 'id' | 'engagedIncidentIds'>, true> = {
  name: true,
  kind: true,
  jurisdictions: true,
  sectors: true,
  clearance: true,
  contacts: true,
  channels: true,
};

/** The fields of an agency's record a replacement changes; lists of codes compared as sets. */
function changedAgencyFields(before: Agency, after: Omit<Agency, 'engagedIncidentIds'>): string[] {
  const sameSet = (a: readonly string[], b: readonly string[]) =>
    new Set(a).size === new Set(b).size && a.every((x) => b.includes(x));
  return (Object.keys(AGENCY_FIELDS) as (keyof typeof AGENCY_FIELDS)[]).filter((field) => {
    const [a, b] = [before[field], after[field]];
    if (field === 'jurisdictions' || field === 'sectors')
      return !sameSet(a as readonly string[], b as readonly string[]);
    return JSON.stringify(a) !== JSON.stringify(b);
  });
}

/** The registry, subscriptions, acknowledgements and delivery records, with their access rules. */
export class NotifyService {
  constructor(
    private readonly deps: {
      readonly agencies: AgencyStore;
      readonly incidents: IncidentFactsStore;
      readonly acknowledgements: AcknowledgementStore;
      readonly deliveries: DeliveryLog;
      readonly clock: Clock;
      /**
       * Told of every registry change, so the fan-out and the push channels stop using their
       * copy; awaited, so a change is in effect on this replica when the call returns.
       */
      readonly onChange: () => Promise<void> | void;
      /** Withdraws retained feed copies an agency may no longer read; absent in unit set-ups. */
      readonly withdrawals?: Pick<AccessWithdrawals, 'clearanceLowered'>;
    },
  ) {}

  /**
   * Registering is the coordination centre's; so is what makes an agency trusted (its name,
   * kind, remit, jurisdictions and clearance). An agency's own admins keep its contacts and
   * channels up to date and change nothing else: an attempt is refused naming the fields.
   */
  async putAgency(caller: Caller, agency: Omit<Agency, 'engagedIncidentIds'>, expectedVersion: number) {
    if (expectedVersion === 0 && !canRegisterAgencies(caller)) {
      throw denied('registering agencies is the coordination centre’s');
    }
    if (expectedVersion > 0 && !mayEditOrganisation(caller, agency.id)) {
      throw denied('an agency is updated by the coordination centre or its own admins');
    }
    const before = expectedVersion > 0 ? await this.deps.agencies.get(agency.id) : undefined;
    // Judged against the version being replaced; another change meanwhile fails the write.
    if (before && before.version === expectedVersion) {
      const refused = changedAgencyFields(before, agency).filter(
        (field) => !mayChangeOrganisationField(caller, agency.id, field),
      );
      if (refused.length > 0) {
        throw denied(
          `${refused.map((f) => `agency.${f}`).join(', ')}: vetting, set by the coordination centre; an agency's admins change its contacts and channels`,
        );
      }
    }
    const stored = await this.deps.agencies.put(agency, expectedVersion);
    await this.deps.onChange();
    // A lowered clearance takes effect on what the feed retains too, before the call returns:
    // the copies above it are purged (replays and pushes check each message again anyway).
    if (before && this.deps.withdrawals) {
      await this.deps.withdrawals.clearanceLowered(stored, before.clearance, `v${stored.version}`);
    }
    return stored;
  }

  async getAgency(caller: Caller, agencyId: string): Promise<StoredAgency> {
    const agency = canReadAgency(caller, agencyId) ? await this.deps.agencies.get(agencyId) : undefined;
    // One answer for "absent" and "not yours": an agency cannot probe for others.
    if (!agency) throw new NotifyError('not-found', `no agency ${agencyId}`);
    return agency;
  }

  async listAgencies(caller: Caller, after: string | undefined, limit: number) {
    if (!canListAgencies(caller)) throw denied('listing agencies is the coordination centre’s');
    return this.deps.agencies.list(after, limit);
  }

  async putSubscription(caller: Caller, subscription: Subscription): Promise<Subscription> {
    await this.#requireAgency(caller, subscription.agencyId, canManageAgency);
    const existing = await this.deps.agencies.subscriptions(subscription.agencyId);
    if (existing.length >= MAX_SUBSCRIPTIONS_PER_AGENCY && !existing.some((s) => s.id === subscription.id)) {
      throw new NotifyError(
        'failed-precondition',
        `at most ${MAX_SUBSCRIPTIONS_PER_AGENCY} subscriptions per agency`,
      );
    }
    await this.deps.agencies.putSubscription(subscription);
    await this.deps.onChange();
    return subscription;
  }

  async deleteSubscription(caller: Caller, agencyId: string, id: string): Promise<void> {
    await this.#requireAgency(caller, agencyId, canManageAgency);
    if (!(await this.deps.agencies.deleteSubscription(agencyId, id))) {
      throw new NotifyError('not-found', `no subscription ${id}`);
    }
    await this.deps.onChange();
  }

  async listSubscriptions(caller: Caller, agencyId: string): Promise<Subscription[]> {
    await this.#requireAgency(caller, agencyId, canReadAgency);
    return this.deps.agencies.subscriptions(agencyId);
  }

  /** Who may receive an agency's feed credentials: its admin or the coordination centre. */
  async requireFeedManager(caller: Caller, agencyId: string): Promise<StoredAgency> {
    return this.#requireAgency(caller, agencyId, canManageAgency);
  }

  /** Who may read an agency's feed: its own people, or the coordination centre. */
  async requireFeedReader(caller: Caller, agencyId: string): Promise<StoredAgency> {
    return this.#requireAgency(caller, agencyId, canReadDeliveries);
  }

  /**
   * The agency acknowledges its engagement on an incident. Only an engaged agency can: the
   * response workflow waits for exactly these. The first acknowledgement stands.
   */
  async acknowledge(
    /**
     * Absent for a signed link or a NATS request, each its own proof of the agency: the link's
     * signature, the NATS server's permission on the agency's own subject.
     */
    caller: Caller | undefined,
    agencyId: string,
    incidentId: string,
    note: string,
    via: Acknowledgement['via'] = 'grpc',
  ): Promise<{ first: boolean; acknowledgedAt: Date }> {
    if (via === 'grpc' || via === 'rest') {
      if (!caller) throw denied('an acknowledgement needs a caller or a signed link');
      await this.#requireAgency(caller, agencyId, canActForAgency);
    } else if (caller) {
      throw denied('a link or a NATS request acknowledges by itself');
    }
    const [agency, facts] = await Promise.all([
      this.deps.agencies.get(agencyId),
      this.deps.incidents.get(incidentId),
    ]);
    // One answer whether the incident does not exist, is hidden from the agency, or does not
    // engage it: the agency learns nothing of incidents it may not read.
    if (!agency || !facts || !facts.engagedAgencyIds.includes(agencyId) || !agencyMayReceive(agency, facts)) {
      throw new NotifyError(
        'not-found',
        `no engagement of agency ${agencyId} on ${incidentId} to acknowledge`,
      );
    }
    return this.deps.acknowledgements.record({
      agencyId,
      incidentId,
      via,
      note,
      at: this.deps.clock.now(),
      tlp: facts.tlp,
    });
  }

  /**
   * Every delivery attempt to the agency about the incident, while the caller may read the
   * incident now (and, for the agency's own people, while the agency may receive it): an
   * incident it may no longer read, or that notify does not know, lists nothing.
   */
  async deliveries(caller: Caller, agencyId: string, incidentId: string): Promise<DeliveryRecord[]> {
    const agency = await this.#requireAgency(caller, agencyId, canReadDeliveries);
    const facts = await this.deps.incidents.get(incidentId);
    if (!facts || !mayRead(caller, facts)) return [];
    if (caller.agencyId !== undefined && !agencyMayReceive(agency, facts)) return [];
    return this.deps.deliveries.list(agencyId, incidentId);
  }

  async #requireAgency(
    caller: Caller,
    agencyId: string,
    rule: (caller: Caller, agencyId: string) => boolean,
  ): Promise<StoredAgency> {
    if (!rule(caller, agencyId)) {
      // Another agency's business reads as absent; a role that may not do this at all is told so.
      if (caller.agencyId && caller.agencyId !== agencyId)
        throw new NotifyError('not-found', `no agency ${agencyId}`);
      throw denied('your role may not do this');
    }
    const agency = await this.deps.agencies.get(agencyId);
    if (!agency) throw new NotifyError('not-found', `no agency ${agencyId}`);
    return agency;
  }
}

const denied = (message: string) => new NotifyError('permission-denied', message);
