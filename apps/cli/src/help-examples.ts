/**
 * Examples for commands whose own file adds none, applied to the whole tree by `buildProgram` (a
 * command that already has an "after" help text keeps its own). The unit test walks every command,
 * so a new command without examples fails there until it gets some, here or in its file.
 */
import type { EventEmitter } from 'node:events';
import type { Command } from 'commander';
import { withExamples } from './help';

export const FALLBACK_EXAMPLES: Readonly<Record<string, readonly string[]>> = {
  'rotation status': ['ekm rotation status', 'ekm rotation status --limit 10 --json'],
  'rotation rewrap': ['ekm rotation rewrap --key alias/acme-docs', 'ekm rotation rewrap --key alias/acme-docs --version 1 --json'],
  'principal list': ['ekm principal list', 'ekm principal list --tenant acme --json'],
  'principal get': ['ekm principal get p-1234', 'ekm principal get p-1234 --json'],
  'principal revoke': ['ekm principal revoke p-1234 --reason "left the team"'],
  'principal revoke-credential': ['ekm principal revoke-credential p-1234 cred-5678 --reason "laptop lost"'],
  'policy get': ['ekm policy get acme-apps', 'ekm policy get acme-apps --json'],
  'policy list': ['ekm policy list', 'ekm policy list --tenant acme --json'],
  'policy delete': ['ekm policy delete acme-apps'],
};

/** Adds the fallback examples to every command of `root` that has none. */
export function addFallbackExamples(root: Command): void {
  const walk = (cmd: Command, path: string[]): void => {
    const examples = FALLBACK_EXAMPLES[path.join(' ')];
    if (examples && (cmd as unknown as EventEmitter).listenerCount('afterHelp') === 0) withExamples(cmd, ...examples);
    for (const sub of cmd.commands) walk(sub, [...path, sub.name()]);
  };
  walk(root, []);
}
