/**
 * The two command-line forms commander cannot express, rewritten before it parses:
 * - `ekm --version` / `ekm -V` only before the command word: after it, `--version` is the command's own
 *   option (`ekm rotation rewrap --key K --version 1`);
 * - `ekm help key create` shows the help of `key create` (commander's help command takes one word).
 */

/** Root options that take a value: the word after them is not the command. */
const GLOBAL_VALUE_OPTIONS: ReadonlySet<string> = new Set(['--nats', '--credentials', '--nats-creds', '--inbox-prefix', '--timeout', '--output', '-o']);

/** Index of the command word (the first word that is neither a root option nor its value, -1 if none) and whether -V/--version came before it. */
function scan(argv: readonly string[]): { at: number; version: boolean } {
  let version = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') return { at: i + 1 < argv.length ? i + 1 : -1, version };
    if (GLOBAL_VALUE_OPTIONS.has(a)) { i++; continue; }
    if (a === '--version' || a === '-V') version = true;
    else if (!a.startsWith('-')) return { at: i, version };
  }
  return { at: -1, version };
}

/** `'version'` for a version request, else argv with `help a b` rewritten to `a b --help`. */
export function normalizeArgv(argv: readonly string[]): readonly string[] | 'version' {
  const { at, version } = scan(argv);
  if (version) return 'version';
  if (at !== -1 && argv[at] === 'help' && at + 1 < argv.length) return [...argv.slice(0, at), ...argv.slice(at + 1), '--help'];
  return argv;
}
