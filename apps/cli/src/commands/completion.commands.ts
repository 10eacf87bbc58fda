/**
 * `ekm completion bash|zsh|fish`: prints a completion script generated from the command tree itself, so it
 * never drifts from the commands: each command path maps to its subcommands and options.
 */
import { Command, Argument } from 'commander';
import type { CliContext } from '../cli-context';
import { withExamples } from '../help';

/** `"key rotation"` -> words that may follow it (subcommands, then long options), for every command path. */
export function completionTable(root: Command): Map<string, string[]> {
  const table = new Map<string, string[]>();
  const globals = root.options.map((o) => o.long).filter((l): l is string => !!l);
  const walk = (cmd: Command, path: string[]): void => {
    const words = [...cmd.commands.map((c) => c.name()), ...cmd.options.map((o) => o.long).filter((l): l is string => !!l), ...globals, '--help'];
    table.set(path.join(' '), [...new Set(words)]);
    for (const sub of cmd.commands) walk(sub, [...path, sub.name()]);
  };
  walk(root, []);
  return table;
}

const shellWords = (words: readonly string[]): string => words.map((w) => w.replace(/[^A-Za-z0-9_.:/=-]/g, '')).join(' ');

/** bash: `complete -F` with a `case` on the command path typed so far (options skipped). */
export function bashScript(root: Command): string {
  const cases = [...completionTable(root)].map(([path, words]) => `    "${path}") words="${shellWords(words)}" ;;`).join('\n');
  return `# ekm bash completion. Load with: source <(ekm completion bash)   (or save to /etc/bash_completion.d/ekm)
_ekm_complete() {
  local cur path="" w words i
  cur="\${COMP_WORDS[COMP_CWORD]}"
  for ((i = 1; i < COMP_CWORD; i++)); do
    w="\${COMP_WORDS[i]}"
    case "$w" in -*) continue ;; esac
    if [ -z "$path" ]; then candidate="$w"; else candidate="$path $w"; fi
    case "$candidate" in
${[...completionTable(root).keys()].filter((p) => p !== '').map((p) => `      "${p}") path="$candidate" ;;`).join('\n')}
    esac
  done
  case "$path" in
    "") words="${shellWords(completionTable(root).get('') ?? [])}" ;;
${cases.split('\n').filter((l) => !l.startsWith('    "")')).join('\n')}
    *) words="" ;;
  esac
  COMPREPLY=( $(compgen -W "$words" -- "$cur") )
}
complete -o default -F _ekm_complete ekm
`;
}

/** zsh: loads the bash function through bashcompinit (one generated table for both shells). */
export function zshScript(root: Command): string {
  return `#compdef ekm
# ekm zsh completion. Load with: source <(ekm completion zsh)   (or save as _ekm in a directory of $fpath)
autoload -U +X bashcompinit && bashcompinit
${bashScript(root).split('\n').filter((l) => !l.startsWith('#')).join('\n')}`;
}

/** fish: one `complete` line per command path, conditioned on the path typed so far (options skipped). */
export function fishScript(root: Command): string {
  const table = completionTable(root);
  const paths = [...table.keys()].filter((p) => p !== '');
  const lines = [...table].map(([path, words]) => `complete -c ekm -n '__ekm_at "${path}"' -a '${shellWords(words)}'`);
  return `# ekm fish completion. Load with: ekm completion fish | source   (or save as ~/.config/fish/completions/ekm.fish)
set -g __ekm_paths ${paths.map((p) => `'${p}'`).join(' ')}
function __ekm_path --description 'the ekm command path typed so far'
  set -l words (commandline -opc)
  set -e words[1]
  set -l path
  for w in $words
    if string match -q -- '-*' $w
      continue
    end
    set -l candidate (string join ' ' $path $w)
    if contains -- $candidate $__ekm_paths
      set path $path $w
    end
  end
  string join ' ' $path
end
function __ekm_at
  set -l p (__ekm_path)
  test "$p" = "$argv[1]"
end
complete -c ekm -f
${lines.join('\n')}
`;
}

const SCRIPTS = { bash: bashScript, zsh: zshScript, fish: fishScript } as const;

export function completionCommand(ctx: CliContext, root: () => Command): Command {
  return withExamples(new Command('completion').description('print a shell completion script for bash, zsh or fish')
    .addArgument(new Argument('<shell>', 'the shell').choices(Object.keys(SCRIPTS))),
  'ekm completion bash > /etc/bash_completion.d/ekm', 'source <(ekm completion bash)', 'ekm completion zsh > "${fpath[1]}/_ekm"',
  'ekm completion fish > ~/.config/fish/completions/ekm.fish')
    .action((shell: keyof typeof SCRIPTS) => {
      ctx.deps.io.stdout(SCRIPTS[shell](root()));
    });
}
