/**
 * The actions a policy statement can name. An action nobody checks is a statement that silently never
 * applies (`keys:Decryptt` allows nothing and denies nothing), so documents and simulations naming one
 * are refused with the list of real ones.
 *
 * The keys service authorizes `keys:<Operation>` with the PascalCase of each request subject
 * (`generate-data-key` -> `keys:GenerateDataKey`), so a new subject is a new action without touching
 * this file; the few actions that are not subjects are listed beside them.
 */
import { KEYS_OPERATIONS } from '../subjects';
import { globMatch } from './glob';

const pascal = (kebab: string): string => kebab.split('-').map((w) => w.charAt(0).toUpperCase() + w.slice(1)).join('');

/** Keys-service actions that are not a subject: the two halves of ReEncrypt, BYOK parameter issue, forced retirement, decrypt under a compromised version (an explicit grant), description updates. */
const KEYS_EXTRA_ACTIONS = ['ReEncryptFrom', 'ReEncryptTo', 'IssueImportParameters', 'DisableKeyVersionForced', 'DestroyKeyVersionForced', 'DecryptCompromised', 'UpdateDescription'] as const;

/** Every action some service authorizes, per service prefix (`keys:` today). */
export const POLICY_ACTIONS: Readonly<Record<string, readonly string[]>> = {
  keys: [...new Set([...KEYS_OPERATIONS.filter((op) => op !== 'status').map(pascal), ...KEYS_EXTRA_ACTIONS])].sort().map((op) => `keys:${op}`),
};

/** All known actions, sorted. */
export const KNOWN_ACTIONS: readonly string[] = Object.values(POLICY_ACTIONS).flat().sort();

const distance = (a: string, b: string): number => {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diag = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const up = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, diag + (a[i - 1]!.toLowerCase() === b[j - 1]!.toLowerCase() ? 0 : 1));
      diag = up;
    }
  }
  return row[b.length]!;
};

/**
 * Why `action` (a statement's action, globs allowed, or with `concrete` a request's action) names no
 * real action, or undefined when it does. `*` and globs that match at least one action are fine.
 */
export function actionProblem(action: string, concrete = false): string | undefined {
  if (action === '*' && !concrete) return undefined;
  const service = action.slice(0, Math.max(0, action.indexOf(':')));
  const known = POLICY_ACTIONS[service];
  if (!known) return `${action}: no service authorizes ${service ? `"${service}:"` : 'it'}; actions are ${Object.keys(POLICY_ACTIONS).map((s) => `${s}:<Operation>`).join(', ')}${concrete ? '' : ' or *'}`;
  const isGlob = action.includes('*') || action.includes('?');
  if (isGlob && concrete) return `${action}: must be one action, not a pattern`;
  if (isGlob ? known.some((a) => globMatch(action, a)) : known.includes(action)) return undefined;
  const nearest = isGlob ? undefined : [...known].sort((a, b) => distance(action, a) - distance(action, b))[0];
  const hint = nearest !== undefined && distance(action, nearest) <= 3 ? ` (did you mean ${nearest}?)` : '';
  return `${action} ${isGlob ? 'matches no action' : 'is not an action'}${hint}; valid actions: ${known.join(', ')}`;
}
