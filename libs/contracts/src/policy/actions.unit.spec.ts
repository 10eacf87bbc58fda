import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { KEYS_OPERATIONS } from '../subjects';
import { validate } from '../validation';
import { actionProblem, KNOWN_ACTIONS } from './actions';
import { PolicyDocumentSchema } from './policy-document.schema';

const parsePolicyDocument = (input: unknown) => validate(PolicyDocumentSchema, input);

const doc = (actions: string[]) => ({ statements: [{ sid: 's', effect: 'allow', roles: ['app'], actions, resources: ['*'] }] });

/** Every `operation: 'X'` / `'keys:X'` the keys service authorizes (its sources, specs left out). */
function keysServiceActions(): string[] {
  const found = new Set<string>();
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir)) {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) walk(path);
      else if (name.endsWith('.ts') && !name.endsWith('.spec.ts')) {
        for (const m of readFileSync(path, 'utf8').matchAll(/operation(?:: | = )'([A-Z][A-Za-z]*)'|'keys:([A-Z][A-Za-z]*)'/g)) found.add(`keys:${m[1] ?? m[2]}`);
      }
    }
  };
  walk(join(__dirname, '..', '..', '..', '..', 'apps', 'keys', 'src'));
  return [...found].sort();
}

describe('policy actions', () => {
  it('knows every subject of the keys service as keys:<PascalCase>', () => {
    expect(KNOWN_ACTIONS).toEqual(expect.arrayContaining(['keys:GenerateDataKey', 'keys:Decrypt', 'keys:ReEncrypt', 'keys:ReEncryptFrom', 'keys:DestroyKeyVersionForced']));
    expect(KNOWN_ACTIONS).toHaveLength(new Set(KNOWN_ACTIONS).size);
    expect(KNOWN_ACTIONS.filter((a) => a === 'keys:Status')).toEqual([]);
    expect(KNOWN_ACTIONS.length).toBeGreaterThanOrEqual(KEYS_OPERATIONS.length - 1);
  });

  it('knows every action the keys service authorizes (a new operation must be a subject or added to actions.ts)', () => {
    expect(keysServiceActions().filter((a) => !KNOWN_ACTIONS.includes(a))).toEqual([]);
  });

  it.each(['*', 'keys:*', 'keys:Generate*', 'keys:Decrypt', 'keys:ReEncrypt?o', 'keys:DisableKeyVersion'])('accepts %s', (a) => {
    expect(actionProblem(a)).toBeUndefined();
    expect(parsePolicyDocument(doc([a])).ok).toBe(true);
  });

  it('rejects a typo, naming the nearest action and listing the valid ones', () => {
    const why = actionProblem('keys:Decryptt');
    expect(why).toMatch(/^keys:Decryptt is not an action \(did you mean keys:Decrypt\?\); valid actions: keys:CancelKeyDeletion, /);
    const r = parsePolicyDocument(doc(['keys:GenerateDataKey', 'keys:Decryptt']));
    expect(r).toMatchObject({ ok: false, issues: [{ path: 'statements[0].actions[1]', rule: why }] });
  });

  it('rejects a glob that matches nothing, an unknown service, and patterns where one action is needed', () => {
    expect(actionProblem('keys:Nothing*')).toMatch(/^keys:Nothing\* matches no action; valid actions: /);
    expect(actionProblem('kyes:Decrypt')).toMatch(/^kyes:Decrypt: no service authorizes "kyes:"; actions are keys:<Operation> or \*$/);
    expect(actionProblem('keys:Generate*', true)).toBe('keys:Generate*: must be one action, not a pattern');
    expect(actionProblem('*', true)).toMatch(/no service authorizes/);
    expect(actionProblem('keys:Decrypt', true)).toBeUndefined();
  });
});
