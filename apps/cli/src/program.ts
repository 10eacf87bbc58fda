/**
 * The `ekm` command tree and one run of it: parse, run the action, print the result or the error,
 * return the exit code. `main.ts` wires it to the process; tests call `runCli` with buffers.
 */
import { Command, CommanderError, Option } from 'commander';
import { parseIntBetween } from './args';
import { CliContext, DEFAULT_TIMEOUT_MS, type CliDeps } from './cli-context';
import { keyCommand } from './commands/key.commands';
import { addKeySettingsCommands } from './commands/key-settings.commands';
import { dataCommands } from './commands/crypto.commands';
import { bulkReencryptCommand } from './commands/bulk-reencrypt.command';
import { batchCommands } from './commands/batch.commands';
import { macCommand } from './commands/mac.commands';
import { importCommand } from './commands/import.commands';
import { auditCommand } from './commands/audit.commands';
import { rotationCommand } from './commands/rotation.commands';
import { tenantCommand } from './commands/tenant.commands';
import { principalCommand } from './commands/principal.commands';
import { policyCommand } from './commands/policy.commands';
import { adminCommand } from './commands/admin.commands';
import { healthCommand } from './commands/health.commands';
import { completionCommand } from './commands/completion.commands';
import { classify, ExitCode } from './exit-codes';
import { withExamples } from './help';
import { addFallbackExamples } from './help-examples';
import { formatError, formatOf, formatOfArgv, OUTPUT_FORMATS } from './output-format';
import { normalizeArgv } from './argv';

/** `ekm --version`. */
export const CLI_VERSION = '0.1.0';

/** Builds the command tree (no I/O until an action runs). */
export function buildProgram(ctx: CliContext): Command {
  const program = new Command('ekm')
    .description('EKM: encryption key management for vector databases')
    // No .version(): commander would take `--version` after any command too (`rotation rewrap --version 1`
    // printed the CLI version); runCli answers `ekm -V` / `ekm --version` before the command word only.
    .option('--nats <url>', 'NATS server (default: $EKM_NATS_URL, then natsUrl of .ekm/stack.json, then of the credential file; never guessed)')
    .addOption(new Option('-o, --output <format>', 'output format: table for people, json or yaml for scripts (one document on stdout)').choices(OUTPUT_FORMATS))
    .option('--json', 'same as --output json')
    .option('--credentials <file>', 'credential file to sign requests with, mode 0600 (default: $EKM_CREDENTIALS, then the nearest .ekm/admin.credentials)')
    .option('--nats-creds <file>', 'NATS login file {"user","password"}, mode 0600 (default: $EKM_NATS_CREDS, then natsCredentials of .ekm/stack.json)')
    .option('--inbox-prefix <prefix>', 'reply inbox prefix (default: $EKM_NATS_INBOX_PREFIX, then _INBOX_<nats user> with a NATS login)')
    .option('--timeout <ms>', `per-attempt request timeout in milliseconds (default ${DEFAULT_TIMEOUT_MS})`, (v) => parseIntBetween('--timeout', v, 1, 600_000))
    .helpCommand('help [command...]', 'show the help of a command, e.g. ekm help key create')
    .showHelpAfterError(false);
  // A contradictory --json --output yaml is a usage error before anything connects.
  program.hook('preAction', (_root, action) => void formatOf(action.optsWithGlobals()));
  withExamples(program, 'ekm key create --tenant acme --collection docs', 'ekm --json datakey generate --key alias/acme-docs --context collection=docs');
  program.addHelpText('after', `\nVersion: ekm --version (or -V) before any command.\nExit codes: 0 ok, 1 service error, 2 usage error, 3 unavailable or timed out, 4 configuration error (docs/cli.md).\nShell completion: source <(ekm completion bash)   (zsh, fish: ekm completion --help)\n`);

  const key = keyCommand(ctx);
  addKeySettingsCommands(ctx, key);
  program.addCommand(key);
  for (const cmd of dataCommands(ctx)) program.addCommand(cmd);
  program.addCommand(bulkReencryptCommand(ctx));
  for (const cmd of batchCommands(ctx)) program.addCommand(cmd);
  program.addCommand(macCommand(ctx));
  program.addCommand(importCommand(ctx));
  program.addCommand(auditCommand(ctx));
  program.addCommand(rotationCommand(ctx));
  program.addCommand(tenantCommand(ctx));
  program.addCommand(principalCommand(ctx));
  program.addCommand(policyCommand(ctx));
  program.addCommand(adminCommand(ctx));
  program.addCommand(healthCommand(ctx));
  program.addCommand(completionCommand(ctx, () => program));
  addFallbackExamples(program);

  // addCommand() does not copy settings to subcommands: apply them to the whole tree.
  const io = ctx.deps.io;
  const configure = (cmd: Command): void => {
    cmd.exitOverride().configureOutput({
      writeOut: (s) => io.stdout(s),
      writeErr: (s) => io.stderr(s),
      // runCli prints the error itself (as JSON with --json); commander must not print it twice.
      outputError: () => undefined,
    });
    for (const sub of cmd.commands) configure(sub);
  };
  configure(program);
  return program;
}

/** Runs `ekm` with `argv` (without `node` and the script) and returns the exit code. Never throws. */
export async function runCli(rawArgv: readonly string[], deps: CliDeps): Promise<number> {
  const ctx = new CliContext(deps);
  const format = formatOfArgv(rawArgv);
  const argv = normalizeArgv(rawArgv);
  if (argv === 'version') {
    deps.io.stdout(`${CLI_VERSION}\n`);
    return ExitCode.Ok;
  }
  try {
    await buildProgram(ctx).parseAsync([...argv], { from: 'user' });
    return ctx.exitCode;
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help and --version "fail" with exit code 0; other commander errors are usage errors.
      if (err.exitCode === 0) return ExitCode.Ok;
      if (err.code === 'commander.help' || err.code === 'commander.helpDisplayed') return ExitCode.Usage;
      deps.io.stderr(formatError('EKM_CLI_USAGE', err.message.replace(/^error: /, ''), format));
      return ExitCode.Usage;
    }
    const { code, message, exitCode } = classify(err);
    deps.io.stderr(formatError(code, message, format));
    if (deps.env.EKM_DEBUG && err instanceof Error && err.stack) deps.io.stderr(`${err.stack}\n`);
    return exitCode;
  } finally {
    await ctx.close();
  }
}
