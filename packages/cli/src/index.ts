/**
 * `beacon`, the command line of coordinators, agencies and victim officers: development tokens,
 * incidents, reports, the registry, agencies with their subscriptions and engagements, support
 * organisations, responses and victim cases, through the gateway's REST door. Every REST route
 * of the gateway has a command (`routes.test.ts` keeps it so).
 */
import { parseArgs, type ParseArgsOptionsConfig } from 'node:util';
import {
  listCommand,
  mergeCommand,
  openCommand,
  relationsCommand,
  reviseCommand,
  showCommand,
  transitionCommand,
} from './commands/incidents.js';
import {
  agenciesAcknowledgeCommand,
  agenciesCredentialsCommand,
  agenciesDeliveriesCommand,
  agenciesGetCommand,
  agenciesListCommand,
  agenciesPutCommand,
} from './commands/agencies.js';
import {
  assetsDeleteCommand,
  assetsGetCommand,
  assetsListCommand,
  assetsPutCommand,
  dependenciesDeleteCommand,
  dependenciesPutCommand,
} from './commands/assets.js';
import { engagementsListCommand } from './commands/engagements.js';
import { assignCommand, severityCommand, unassignCommand } from './commands/incident-commands.js';
import { auditVerifyCommand, lookupCommand, stixCommand, trendsCommand } from './commands/intelligence.js';
import { assessCommand, assessmentGetCommand, exportCommand, importCommand } from './commands/registry.js';
import {
  acknowledgeCommand,
  addAgencyCommand,
  changeSeverityCommand,
  escalateCommand,
  fileReportCommand,
  ransomPaymentCommand,
  removeAgencyCommand,
  resolveCommand,
} from './commands/response-commands.js';
import { responsesGetCommand, responsesTimelineCommand, responsesWaitCommand } from './commands/responses.js';
import { subscribeCommand, subscriptionsListCommand, unsubscribeCommand } from './commands/subscriptions.js';
import {
  supportOrgsGetCommand,
  supportOrgsListCommand,
  supportOrgsPutCommand,
  supportOrgsReferralsCommand,
} from './commands/support-orgs.js';
import { submitCommand } from './commands/reports.js';
import { tokenCommand } from './commands/token.js';
import { whoamiCommand } from './commands/whoami.js';
import { victimsImportCommand, victimsStatsCommand, victimsStatusCommand } from './commands/victims.js';
import {
  victimsAssessCommand,
  victimsAuditCommand,
  victimsCloseCommand,
  victimsConsentCommand,
  victimsEraseCommand,
  victimsFindCommand,
  victimsGetCommand,
  victimsListCommand,
  victimsOpenCommand,
  victimsUpdateCommand,
} from './commands/victim-cases.js';
import {
  victimsCheckInCommand,
  victimsDiscloseCommand,
  victimsFollowUpCommand,
  victimsReferCommand,
  victimsRespondCommand,
  victimsSuggestCommand,
} from './commands/victim-referrals.js';
import { createContext, DEFAULT_URL, jsonText, type Command } from './context.js';
import { formatProblem } from './format.js';
import { ApiError } from './http.js';
import { CliError, UsageError, type Io } from './io.js';
import { CLEARANCE_NOTE, ROLES } from './roles.js';

export { ApiError, GatewayClient, type Problem, type Violation } from './http.js';
export { CliError, UsageError, type Io, type Output } from './io.js';
export { canonicalJson, correlationGroups, idempotencyKey, parseReports } from './report-file.js';
export { submitReports, type SubmitOutcome } from './commands/reports.js';
export { importRegistry, type ImportOutcome } from './commands/registry.js';
export { importVictims, type VictimImportOutcome } from './commands/victims.js';

/** Every command, in the order `beacon --help` lists them. */
export const COMMANDS: readonly Command[] = [
  tokenCommand,
  whoamiCommand,
  listCommand,
  showCommand,
  openCommand,
  transitionCommand,
  mergeCommand,
  reviseCommand,
  severityCommand,
  assignCommand,
  unassignCommand,
  relationsCommand,
  stixCommand,
  submitCommand,
  lookupCommand,
  trendsCommand,
  auditVerifyCommand,
  importCommand,
  exportCommand,
  assetsListCommand,
  assetsGetCommand,
  assetsPutCommand,
  assetsDeleteCommand,
  dependenciesPutCommand,
  dependenciesDeleteCommand,
  assessCommand,
  assessmentGetCommand,
  agenciesListCommand,
  agenciesGetCommand,
  agenciesPutCommand,
  subscriptionsListCommand,
  subscribeCommand,
  unsubscribeCommand,
  agenciesCredentialsCommand,
  agenciesDeliveriesCommand,
  agenciesAcknowledgeCommand,
  engagementsListCommand,
  responsesGetCommand,
  responsesTimelineCommand,
  responsesWaitCommand,
  acknowledgeCommand,
  escalateCommand,
  addAgencyCommand,
  removeAgencyCommand,
  changeSeverityCommand,
  fileReportCommand,
  ransomPaymentCommand,
  resolveCommand,
  supportOrgsListCommand,
  supportOrgsGetCommand,
  supportOrgsPutCommand,
  supportOrgsReferralsCommand,
  victimsOpenCommand,
  victimsImportCommand,
  victimsListCommand,
  victimsFindCommand,
  victimsGetCommand,
  victimsUpdateCommand,
  victimsAssessCommand,
  victimsConsentCommand,
  victimsSuggestCommand,
  victimsReferCommand,
  victimsRespondCommand,
  victimsFollowUpCommand,
  victimsCheckInCommand,
  victimsDiscloseCommand,
  victimsCloseCommand,
  victimsEraseCommand,
  victimsAuditCommand,
  victimsStatsCommand,
  victimsStatusCommand,
];

const GLOBAL_OPTIONS = {
  url: { type: 'string' },
  token: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const satisfies ParseArgsOptionsConfig;

/** Every flag that takes a value, so the command words can be found among flags and values. */
const ALL_OPTIONS: readonly ParseArgsOptionsConfig[] = [GLOBAL_OPTIONS, ...COMMANDS.map((c) => c.options)];
const VALUE_FLAGS = new Set(
  ALL_OPTIONS.flatMap((options) =>
    Object.entries(options)
      .filter(([, o]) => o.type === 'string')
      .map(([name]) => `--${name}`),
  ),
);

function usage(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length)) + 2;
  return [
    'usage: beacon [--url URL] [--token JWT] [--json] <command> …',
    '',
    'commands:',
    ...COMMANDS.flatMap((c) => [`  ${c.name.padEnd(width)}${c.summary}`]),
    '',
    'global options:',
    `  --url URL     the gateway's REST address (env BEACON_URL; default ${DEFAULT_URL})`,
    '  --token JWT   bearer token (env BEACON_TOKEN)',
    '  --json        print JSON instead of tables and summaries',
    '  -h, --help    this help; `beacon <command> --help` for one command',
    '',
    'exit codes: 0 done; 1 the command failed, or some reports or rows did; 2 a usage or input error',
    '',
  ].join('\n');
}

function commandUsage(command: Command): string {
  const details = command.details ? `\n${command.details.trimEnd()}\n` : '';
  return (
    `usage: beacon ${command.name} ${command.synopsis}\n\n${command.summary}\n\n` +
    `roles: ${command.roles}\n${command.roles === ROLES.none ? '' : `  (${CLEARANCE_NOTE})\n`}${details}`
  );
}

/** The first positional arguments, skipping flags and the values of flags that take one. */
function leadingWords(argv: readonly string[]): string[] {
  const words: string[] = [];
  for (let i = 0; i < argv.length && words.length < 2; i++) {
    const arg = argv[i]!;
    if (arg === '--') {
      words.push(...argv.slice(i + 1, i + 3));
      break;
    }
    if (arg.startsWith('-')) {
      if (!arg.includes('=') && VALUE_FLAGS.has(arg)) i++;
      continue;
    }
    words.push(arg);
  }
  return words;
}

/**
 * Runs one `beacon` command line and resolves to its exit code: 0 success, 1 failure (the
 * problem printed to stderr), 2 usage or input error. Never throws and never exits the
 * process, so tests drive it in-process with string collectors for `io.stdout`/`io.stderr`.
 */
export async function run(argv: readonly string[], io: Io): Promise<number> {
  let command: Command | undefined;
  let json = argv.includes('--json');
  try {
    const words = leadingWords(argv);
    const wantsHelp = argv.includes('--help') || argv.includes('-h');
    command =
      COMMANDS.find((c) => c.name === words.slice(0, 2).join(' ')) ??
      COMMANDS.find((c) => c.name === words[0]);
    if (!command) {
      if (words.length === 0 || words[0] === 'help') {
        (wantsHelp || words[0] === 'help' ? io.stdout : io.stderr).write(usage());
        return wantsHelp || words[0] === 'help' ? 0 : 2;
      }
      const group = COMMANDS.filter((c) => c.name.startsWith(`${words[0]} `));
      if (group.length > 0 && (words.length === 1 || wantsHelp)) {
        const text = group.map((c) => `  beacon ${c.name} ${c.synopsis}\n`).join('');
        if (wantsHelp) {
          io.stdout.write(`usage:\n${text}`);
          return 0;
        }
        throw new UsageError(
          `${words[0]} needs a subcommand:\n${text.trimEnd()}`,
          `beacon ${words[0]} --help`,
        );
      }
      throw new UsageError(`unknown command "${words.join(' ')}"`);
    }
    if (wantsHelp) {
      io.stdout.write(commandUsage(command));
      return 0;
    }

    let parsed;
    try {
      parsed = parseArgs({
        args: [...argv],
        options: { ...GLOBAL_OPTIONS, ...command.options },
        allowPositionals: true,
        strict: true,
      });
    } catch (error) {
      if ((error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
        throw new UsageError((error as Error).message);
      }
      throw error;
    }
    json = parsed.values.json === true;
    const args = parsed.positionals.slice(command.name.split(' ').length);
    if (args.length < command.args.length) {
      throw new UsageError(`missing <${command.args.slice(args.length).join('> <')}>`);
    }
    if (args.length > command.args.length) {
      throw new UsageError(`unexpected argument "${args[command.args.length]}"`);
    }
    return await command.run(createContext(io, args, parsed.values));
  } catch (error) {
    if (error instanceof UsageError) {
      const help = error.help ?? (command ? `beacon ${command.name} --help` : 'beacon --help');
      io.stderr.write(`beacon: ${error.message}\n(see \`${help}\`)\n`);
      return 2;
    }
    if (error instanceof ApiError) {
      io.stderr.write(json ? jsonText(error.problem) : formatProblem(error.problem).join('\n') + '\n');
      return 1;
    }
    if (error instanceof CliError) {
      io.stderr.write(`beacon: ${error.message}\n`);
      return 1;
    }
    io.stderr.write(`beacon: unexpected error: ${error instanceof Error ? error.stack : String(error)}\n`);
    return 1;
  }
}
