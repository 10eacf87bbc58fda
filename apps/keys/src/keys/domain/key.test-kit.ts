// Test fixtures for the key decider: event/command builders and the given/when/then helper.
// Not exported from index.ts; used by the *.unit.spec.ts files next to it.
import type { KeyCommand } from './key.commands';
import { decide } from './key.decide';
import type { KeyEvent } from './key.events';
import { foldKeyEvents } from './key.evolve';
import { DEFAULT_KEY_LIMITS, type KeyLifecycleLimits } from './key.limits';
import type { Decision, KeyRejection, KeyRejectionCode } from './key.rejections';
import type { KeyState } from './key.state';
import { asKeyId, type CommandMeta, type KeyId } from './key.types';

export const KEY = asKeyId('k_test');
export const T0 = '2026-01-01T00:00:00.000Z';
export const at = (iso: string): CommandMeta => ({ actor: 'tester', now: iso });
export const meta = at(T0);
export const material = (n: number) => ({ materialRef: `mat-${n}`, fingerprint: `fp-${n}` });

type Data<T extends KeyEvent['type']> = Extract<KeyEvent, { type: T }>['data'];
export const ev = <T extends KeyEvent['type']>(type: T, data: Omit<Data<T>, 'keyId'>, m: CommandMeta = meta): KeyEvent =>
  ({ type, data: { keyId: KEY, ...data }, meta: m }) as KeyEvent;

type CmdData<T extends KeyCommand['type']> = Extract<KeyCommand, { type: T }>['data'];
export const cmd = <T extends KeyCommand['type']>(type: T, data: Omit<CmdData<T>, 'keyId'> & { keyId?: KeyId }, m: CommandMeta = meta): KeyCommand =>
  ({ type, data: { keyId: KEY, ...data }, meta: m }) as KeyCommand;

// Common histories.
export const created = ev('KeyCreated', {
  tenant: 't1', spec: 'SYMMETRIC_DEFAULT', usage: 'ENCRYPT_DECRYPT', origin: 'EKM', description: '', tags: {},
  requiredContext: { collection: 'docs' }, createdAt: T0,
});
export const createdHmac = ev('KeyCreated', {
  tenant: 't1', spec: 'HMAC_256', usage: 'GENERATE_VERIFY_MAC', origin: 'EKM', description: '', tags: {}, requiredContext: {}, createdAt: T0,
});
export const createdExternal = ev('KeyCreated', {
  tenant: 't1', spec: 'SYMMETRIC_DEFAULT', usage: 'ENCRYPT_DECRYPT', origin: 'EXTERNAL', description: '', tags: {}, requiredContext: {}, createdAt: T0,
});
export const versionAdded = (version: number, isPrimary = true): KeyEvent =>
  ev('KeyVersionAdded', { version, ...material(version), isPrimary, createdAt: T0 });
export const rotated = (from: number, to: number): KeyEvent[] => [
  versionAdded(to),
  ev('KeyRotated', { from, to, reason: 'ON_DEMAND', rotatedAt: T0, nextRotationAt: null }),
];
/** An Enabled EKM key with version 1 as primary. */
export const active: KeyEvent[] = [created, versionAdded(1)];

/** Codes and command types exercised, so a spec can assert it covered all of them. */
export const seenCodes = new Set<KeyRejectionCode>();
export const seenCommands = new Set<KeyCommand['type']>();

export const given = (...events: KeyEvent[]) => ({
  when: (command: KeyCommand, limits: KeyLifecycleLimits = DEFAULT_KEY_LIMITS) => {
    seenCommands.add(command.type);
    const state = foldKeyEvents(events);
    const decision = decide(command, state, limits);
    return {
      decision,
      /** Exactly these events (none = an accepted no-op). */
      then: (...expected: KeyEvent[]): void => {
        expect(decision).toEqual({ ok: true, events: expected });
      },
      thenRejects: (code: KeyRejectionCode, fields: Partial<Record<string, unknown>> = {}): void => {
        seenCodes.add(code);
        expect(decision.ok).toBe(false);
        expect((decision as Extract<Decision, { ok: false }>).rejection).toMatchObject({ code, ...fields });
        expect('events' in decision).toBe(false); // a rejection appends nothing
      },
      /** The state after the accepted events (the given history if rejected). */
      state: (): KeyState => foldKeyEvents([...events, ...(decision.ok ? decision.events : [])]),
      rejection: (): KeyRejection | undefined => (decision.ok ? undefined : decision.rejection),
    };
  },
});
