import { jsonText, type Command } from '../context.js';
import { tlpName } from '../format.js';
import { ROLES } from '../roles.js';

interface CallerJson {
  readonly subject?: string;
  readonly roles?: readonly string[];
  readonly agencyId?: string;
  readonly clearance?: string;
}

export const whoamiCommand: Command = {
  name: 'whoami',
  routes: ['GET /v1/caller'],
  synopsis: '',
  summary: 'who your token makes you to Beacon: subject, roles, agency and clearance',
  roles: ROLES.anyone,
  options: {},
  args: [],
  async run(context) {
    const caller = await context.client().call<CallerJson>('GET', '/v1/caller');
    context.io.stdout.write(
      context.json
        ? jsonText(caller)
        : [
            `subject:   ${caller.subject ?? ''}`,
            `roles:     ${(caller.roles ?? []).join(', ')}`,
            `agency:    ${caller.agencyId ?? '(none: the coordination centre)'}`,
            `clearance: ${tlpName(caller.clearance)}`,
            '',
          ].join('\n'),
    );
    return 0;
  },
};
