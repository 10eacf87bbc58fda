/** `--help` text helpers: every command shows at least one copy-paste example. */
import type { Command } from 'commander';

/** Appends an "Examples:" section to `cmd --help`. */
export function withExamples(cmd: Command, ...examples: string[]): Command {
  return cmd.addHelpText('after', `\nExamples:\n${examples.map((e) => `  $ ${e}`).join('\n')}\n`);
}
