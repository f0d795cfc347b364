/**
 * Who may do what, in words for `--help`. The services decide (the one trust policy in
 * `@beacon/domain`); these lines only tell a person which token to bring.
 */

/** Each role a token may carry, and what it lets its holder do through the gateway. */
export const ROLE_HELP: readonly (readonly [role: string, what: string])[] = [
  [
    'coordinator',
    'the coordination centre: opens, revises, merges and moves incidents; registers agencies, ' +
      'their subscriptions and support organisations; commands responses (escalate, add or ' +
      'remove an agency, change severity, record reports filed and ransom payments, resolve); ' +
      'keeps the registry of assets and dependencies and assesses impact; reads every incident ' +
      'within its clearance',
  ],
  [
    'agency_analyst',
    "one agency's analyst (--agency): files reports; reads incidents labelled CLEAR or GREEN " +
      'and those naming its agency (its own reports, engagements); lists its agency’s ' +
      'engagements, reads the responses it is engaged on and acknowledges them; reads its ' +
      'agency’s record, subscriptions and deliveries',
  ],
  [
    'agency_admin',
    'an analyst who also keeps its own agency up to date: contacts and channels (not its ' +
      'remit or clearance), subscriptions, NATS feed credentials; an operator’s admin its own ' +
      'assets; a support organisation’s admin its languages and whether it is accepting',
  ],
  [
    'victim_officer',
    "a support organisation's officer (--agency: the organisation's id): opens and works its " +
      'victim cases (the victim’s details, needs, consent, referrals, check-ins, disclosure to ' +
      'police with consent; closing and erasing those it opened), answers the referrals made to ' +
      'it and reads its statistics',
  ],
  [
    'auditor',
    'reads what the coordination centre reads (incidents, responses, statistics), verifies ' +
      'audit chains and reads who did what with a victim case; changes nothing',
  ],
  [
    'service',
    'a Beacon process (--subject workflows, impact or key-rotation) with its own scopes; ' +
      'accepted on the internal network only: the gateway, and so this CLI, refuses it',
  ],
];

/** The roles as `--help` text, wrapped under their names. */
export function rolesHelp(): string {
  const width = Math.max(...ROLE_HELP.map(([role]) => role.length)) + 2;
  return ROLE_HELP.map(
    ([role, what]) => `  ${role.padEnd(width)}${wrap(what, 96 - width - 2, width + 2)}`,
  ).join('\n');
}

/** Text broken at spaces into lines at most `width` long, continuation lines indented. */
function wrap(text: string, width: number, indent: number): string {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    if (line && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) lines.push(line);
  return lines.join(`\n${' '.repeat(indent)}`);
}

/** Every role's clearance bounds what it reads: said once under each command's roles. */
export const CLEARANCE_NOTE = 'a token reads nothing above its TLP clearance, whatever its role';

/** Role lines shared by several commands. */
export const ROLES = {
  coordinators: 'coordinator',
  centre: 'coordinator, auditor',
  readers:
    'coordinator, auditor (every incident); agency_analyst, agency_admin (CLEAR and GREEN ' +
    'incidents, and those naming their agency)',
  reporters: 'coordinator; agency_analyst, agency_admin (for their own agency)',
  agencyManagers: 'coordinator (any agency); agency_admin (its own agency)',
  agencyReaders: 'coordinator (any agency); agency_analyst, agency_admin (their own agency)',
  acknowledgers:
    "agency_analyst, agency_admin (their own agency's engagement); coordinator (on an agency's behalf)",
  victimOfficers: 'victim_officer (for their own organisation)',
  anyone: 'any role',
  none: 'none: a development tool that reads the local issuer’s key, no token needed',
} as const;
