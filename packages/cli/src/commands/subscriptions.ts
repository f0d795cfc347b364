import { getCommand, listOptions, valueOptions } from '../command-kinds.js';
import { integerFlag, jsonText, type Command } from '../context.js';
import { enumFlag, listFlag, optional } from '../flags.js';
import { subscriptionTable, type SubscriptionJson } from '../format-registry.js';
import { ROLES } from '../roles.js';
import { agencyPath } from './agencies.js';

const REACHES = ['named', 'named-and-reached'] as const;

const subscriptionsPath = (agencyId: string) => `${agencyPath(agencyId)}/subscriptions`;

export const subscriptionsListCommand = getCommand({
  name: 'agencies subscriptions',
  routes: ['GET /v1/agencies/{agency_id}/subscriptions'],
  synopsis: '<agency-id>',
  summary: "an agency's subscriptions: what its feed, webhook and e-mail carry",
  roles: ROLES.agencyReaders,
  args: ['agency-id'],
  request: (context) => ({ path: subscriptionsPath(context.args[0]!) }),
  json: (response: { subscriptions?: SubscriptionJson[] }) => ({
    subscriptions: response.subscriptions ?? [],
  }),
  text: (response) => subscriptionTable(response.subscriptions ?? []),
});

export const subscribeCommand: Command = {
  name: 'agencies subscribe',
  routes: ['POST /v1/subscriptions'],
  synopsis:
    '<agency-id> <subscription-id> [--event-types TYPES] [--rsit-classes CLASSES] [--sectors SECTORS] ' +
    '[--jurisdictions CODES] [--min-level N] [--incidents IDS] [--reach named|named-and-reached]',
  summary: 'create or replace one of an agency’s subscriptions (the same id replaces it)',
  roles: ROLES.agencyManagers,
  details: `Each filter narrows; a filter left out lets everything through. Lists are comma-separated.
--event-types    domain.event or domain.*, e.g. incident.opened,impact.*
--rsit-classes   RSIT classes, e.g. malicious-code,fraud
--sectors, --jurisdictions
                 matched one place at a time: an event passes when one place its incident touches
                 is in one of the sectors and within one of the jurisdictions (DE takes DE-BY)
--reach          named: the places the reports name; named-and-reached (the default): those and
                 the places the incident's cascade reaches
--min-level      the lowest NCISS level, 0 (anything) to 5
--incidents      only these incidents
Whatever a subscription says, an agency receives nothing above its clearance, and above GREEN
only about incidents that name it (its own reports, its engagements).`,
  options: {
    ...valueOptions('min-level', 'reach'),
    ...listOptions('event-types', 'rsit-classes', 'sectors', 'jurisdictions', 'incidents'),
  },
  args: ['agency-id', 'subscription-id'],
  async run(context) {
    const [agencyId, id] = context.args as [string, string];
    const minNcissLevel = optional(context, 'min-level', (text) => integerFlag('min-level', text, 0, 5));
    const reach = optional(context, 'reach', (text) =>
      enumFlag('reach', text, 'SUBSCRIPTION_REACH_', REACHES),
    );
    const subscription = {
      id,
      agencyId,
      eventTypes: listFlag(context, 'event-types'),
      rsitClasses: listFlag(context, 'rsit-classes'),
      sectors: listFlag(context, 'sectors'),
      jurisdictions: listFlag(context, 'jurisdictions'),
      incidentIds: listFlag(context, 'incidents'),
      ...(minNcissLevel === undefined ? {} : { minNcissLevel }),
      ...(reach ? { reach } : {}),
    };
    const response = await context
      .client()
      .call<{ subscription: SubscriptionJson }>('POST', '/v1/subscriptions', { body: { subscription } });
    context.io.stdout.write(
      context.json
        ? jsonText(response)
        : `${agencyId} subscribed as ${id}\n${subscriptionTable([response.subscription])}`,
    );
    return 0;
  },
};

export const unsubscribeCommand: Command = {
  name: 'agencies unsubscribe',
  routes: ['POST /v1/agencies/{agency_id}/subscriptions/{subscription_id}:delete'],
  synopsis: '<agency-id> <subscription-id>',
  summary: 'remove one of an agency’s subscriptions',
  roles: ROLES.agencyManagers,
  options: {},
  args: ['agency-id', 'subscription-id'],
  async run(context) {
    const [agencyId, id] = context.args as [string, string];
    await context
      .client()
      .call('POST', `${subscriptionsPath(agencyId)}/${encodeURIComponent(id)}:delete`, { body: {} });
    context.io.stdout.write(
      context.json
        ? jsonText({ agencyId, subscriptionId: id, deleted: true })
        : `${agencyId}: ${id} removed\n`,
    );
    return 0;
  },
};
