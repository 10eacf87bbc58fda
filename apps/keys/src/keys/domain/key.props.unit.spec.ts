import fc from 'fast-check';
import type { KeyCommand } from './key.commands';
import { decide } from './key.decide';
import type { KeyEvent } from './key.events';
import { evolve, foldKeyEvents } from './key.evolve';
import { DEFAULT_KEY_LIMITS } from './key.limits';
import { initialState, type KeyState } from './key.state';
import { KEY, T0, at, cmd, ev } from './key.test-kit';
import {
  KEY_ORIGINS, KEY_SPECS, ROTATION_REASONS, USAGE_OF_SPEC, WRAPPING_ALGORITHMS, type CommandMeta,
} from './key.types';
import { checkDecryptAllowed, selectEncryptVersion } from './key.usage';

// Model tests: random command sequences against one key, with time moving forward between commands.
// Parameters come from small domains so that a good share of commands is accepted.

const limits = { ...DEFAULT_KEY_LIMITS, minPendingWindowDays: 0 };
const version = fc.integer({ min: 0, max: 6 });
const tokenId = fc.constantFrom('tok-a', 'tok-b');
const alias = fc.constantFrom('alias/a', 'alias/b', 'not-an-alias');
const algorithm = fc.constantFrom(...WRAPPING_ALGORITHMS);

/** A command template; `step` makes material refs unique and `m` carries the step's time. */
type Template = (step: number, m: CommandMeta) => KeyCommand;
const mat = (step: number) => ({ materialRef: `mat-${step}`, fingerprint: `fp-${step}` });

const createTemplate: fc.Arbitrary<Template> = fc
  .record({ spec: fc.constantFrom(...KEY_SPECS), origin: fc.constantFrom(...KEY_ORIGINS) })
  .map(({ spec, origin }) => (step, m) =>
    cmd('CreateKey', { tenant: 't', spec, usage: USAGE_OF_SPEC[spec], origin, ...(origin === 'EKM' ? { initialVersion: mat(step) } : {}) }, m));

// Weighted so that keys live long enough to collect versions, imports and destroyed versions.
const template: fc.Arbitrary<Template> = fc.oneof(
  { weight: 1, arbitrary: createTemplate },
  { weight: 6, arbitrary: fc.constantFrom(...ROTATION_REASONS).map((reason): Template => (s, m) => cmd('RotateKey', { reason, ...mat(s) }, m)) },
  { weight: 2, arbitrary: version.map((v): Template => (_, m) => cmd('SetPrimaryVersion', { version: v }, m)) },
  { weight: 3, arbitrary: fc.constantFrom('EnableKey', 'DisableKey', 'CancelKeyDeletion', 'DestroyKey', 'DisableKeyRotation')
    .map((type): Template => (_, m) => cmd(type, {} as never, m)) },
  { weight: 1, arbitrary: fc.constant<Template>((_, m) => cmd('RevokeKey', { reason: 'leaked' }, m)) },
  { weight: 1, arbitrary: fc.option(fc.integer({ min: 0, max: 35 }), { nil: undefined })
    .map((days): Template => (_, m) => cmd('ScheduleKeyDeletion', { pendingWindowDays: days }, m)) },
  { weight: 4, arbitrary: fc.tuple(fc.constantFrom('DisableKeyVersion', 'EnableKeyVersion', 'DestroyKeyVersion'), version)
    .map(([type, v]): Template => (_, m) => cmd(type, { version: v }, m)) },
  { weight: 1, arbitrary: fc.tuple(fc.constantFrom('CreateAlias', 'DeleteAlias'), alias).map(([type, a]): Template => (_, m) => cmd(type, { alias: a }, m)) },
  { weight: 1, arbitrary: fc.dictionary(fc.constantFrom('team', 'env'), fc.constantFrom('x', 'y')).map((tags): Template => (_, m) => cmd('TagKey', { tags }, m)) },
  { weight: 1, arbitrary: fc.subarray(['team', 'env']).map((tagKeys): Template => (_, m) => cmd('UntagKey', { tagKeys }, m)) },
  { weight: 1, arbitrary: fc.constantFrom(0, 1, 30, 3000).map((periodDays): Template => (_, m) => cmd('EnableKeyRotation', { periodDays }, m)) },
  { weight: 2, arbitrary: fc.tuple(tokenId, algorithm).map(([t, a]): Template => (_, m) =>
    cmd('IssueImportParameters', { tokenId: t, wrappingAlgorithm: a, wrappingKeySpec: 'RSA_3072' }, m)) },
  { weight: 3, arbitrary: fc.tuple(tokenId, algorithm).map(([t, a]): Template => (s, m) => cmd('ImportKeyMaterial', { tokenId: t, wrappingAlgorithm: a, ...mat(s) }, m)) },
  { weight: 1, arbitrary: tokenId.map((t): Template => (_, m) => cmd('ExpireImportToken', { tokenId: t }, m)) },
);

// Mostly commands in quick succession (an import inside its token's 24 h), sometimes weeks apart (a
// deletion window elapsing).
const hoursBetween = fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 23 }), fc.integer({ min: 0, max: 40 * 24 }));
/** A scenario: CreateKey, then random commands at increasing times. */
const scenario = fc.tuple(
  createTemplate,
  fc.array(fc.tuple(template, hoursBetween), { minLength: 5, maxLength: 50, size: 'max' }),
);

interface Run { state: KeyState; accepted: KeyEvent[]; steps: { command: KeyCommand; before: KeyState; after: KeyState; events: KeyEvent[] }[] }

const run = ([first, rest]: [Template, [Template, number][]]): Run => {
  let now = Date.parse(T0);
  let state: KeyState = initialState;
  const accepted: KeyEvent[] = [];
  const steps: Run['steps'] = [];
  const commands = [[first, 0] as [Template, number], ...rest];
  commands.forEach(([t, hours], step) => {
    now += hours * 3_600_000;
    const command = t(step, at(new Date(now).toISOString()));
    const before = state;
    const decision = decide(command, state, limits);
    expect(state).toEqual(before); // decide never mutates
    const events = decision.ok ? decision.events : [];
    if (!decision.ok) expect(decision).not.toHaveProperty('events'); // a rejection appends nothing
    state = events.reduce(evolve, state);
    accepted.push(...events);
    steps.push({ command, before, after: state, events });
  });
  return { state, accepted, steps };
};

const params = { numRuns: 200 };

describe('key decider properties', () => {
  it('version numbers are contiguous from 1 and never reused', () => {
    fc.assert(fc.property(scenario, (sc) => {
      for (const { before, after, events } of run(sc).steps) {
        if (after.status === 'Absent') continue;
        expect([...after.versions.keys()].sort((a, b) => a - b)).toEqual(Array.from({ length: after.highestVersion }, (_, i) => i + 1));
        const prevHighest = before.status === 'Absent' ? 0 : before.highestVersion;
        const added = events.flatMap((e) => (e.type === 'KeyVersionAdded' || e.type === 'KeyMaterialImported' ? [e.data.version] : []));
        expect(added).toEqual(added.map((_, i) => prevHighest + i + 1));
      }
    }), params);
  });

  it('an Enabled key has exactly one primary and it is Enabled; only an Enabled key encrypts', () => {
    fc.assert(fc.property(scenario, (sc) => {
      for (const { after } of run(sc).steps) {
        const encrypts = selectEncryptVersion(after).ok;
        if (after.status === 'Absent') { expect(encrypts).toBe(false); continue; }
        if (after.status === 'Enabled') {
          expect(after.primary).not.toBeNull();
          expect(after.versions.get(after.primary!)?.status).toBe('Enabled');
          expect(encrypts).toBe(true);
        } else {
          expect(encrypts).toBe(false); // Compromised, Disabled, PendingDeletion, Destroyed, PendingImport
        }
        if (after.status === 'PendingImport') expect(after.primary).toBeNull();
      }
    }), params);
  });

  it('a destroyed key or version never decrypts, even with the compromised permission', () => {
    fc.assert(fc.property(scenario, (sc) => {
      const { state } = run(sc);
      if (state.status === 'Absent') return;
      for (let v = 0; v <= state.highestVersion + 1; v++) {
        const ok = checkDecryptAllowed(state, v, { allowCompromised: true }).ok;
        const version = state.versions.get(v);
        if (state.status === 'Destroyed' || version === undefined || version.status !== 'Enabled') expect(ok).toBe(false);
        else expect(ok).toBe(state.status === 'Enabled' || state.status === 'Compromised');
      }
    }), params);
  });

  it('replaying all accepted events from scratch equals the incrementally built state', () => {
    fc.assert(fc.property(scenario, (sc) => {
      const { state, accepted } = run(sc);
      expect(foldKeyEvents(accepted)).toEqual(state);
    }), params);
  });

  it('every accepted event belongs to the key and carries the command meta', () => {
    fc.assert(fc.property(scenario, (sc) => {
      for (const { command, events } of run(sc).steps)
        for (const e of events) expect([e.data.keyId, e.meta]).toEqual([KEY, command.meta]);
    }), params);
  });

  it('a destroyed key accepts nothing that changes its material or status', () => {
    fc.assert(fc.property(scenario, (sc) => {
      for (const { before, events } of run(sc).steps)
        if (before.status === 'Destroyed') expect(events.filter((e) => e.type !== 'ImportTokenExpired' && e.type !== 'KeyRotationDisabled')).toEqual([]);
    }), params);
  });
});

// Arbitrary events, including ones the decider would never emit (unknown versions, events before
// KeyCreated, duplicates): evolve must fold every sequence without throwing.
const anyEvent: fc.Arbitrary<KeyEvent> = fc.oneof(
  fc.constantFrom(...KEY_ORIGINS).map((origin) => ev('KeyCreated', {
    tenant: 't', spec: 'SYMMETRIC_DEFAULT', usage: 'ENCRYPT_DECRYPT', origin, description: '', tags: {}, requiredContext: {}, createdAt: T0,
  })),
  fc.tuple(version, fc.boolean()).map(([v, isPrimary]) => ev('KeyVersionAdded', { version: v, materialRef: 'm', fingerprint: 'f', isPrimary, createdAt: T0 })),
  fc.tuple(version, version).map(([from, to]) => ev('PrimaryVersionChanged', { from, to })),
  fc.tuple(fc.constantFrom('KeyVersionDisabled', 'KeyVersionEnabled'), version).map(([type, v]) => ev(type, { version: v })),
  version.map((v) => ev('KeyVersionDestroyed', { version: v, destroyedAt: T0 })),
  fc.constantFrom('KeyEnabled', 'KeyDisabled', 'KeyRotationDisabled').map((type) => ev(type, {})),
  fc.constant(ev('KeyRevoked', { reason: 'r', revokedAt: T0 })),
  fc.constant(ev('KeyDeletionScheduled', { deletionDate: T0, pendingWindowDays: 7, scheduledAt: T0 })),
  fc.constantFrom('Disabled', 'Compromised', 'PendingImport').map((restoredStatus) => ev('KeyDeletionCancelled', { restoredStatus })),
  fc.constant(ev('KeyDestroyed', { destroyedAt: T0 })),
  fc.tuple(fc.constantFrom('AliasCreated', 'AliasDeleted'), alias).map(([type, a]) => ev(type, { alias: a })),
  fc.constant(ev('KeyTagged', { tags: { a: 'b' } })),
  fc.constant(ev('KeyUntagged', { tagKeys: ['a', 'zz'] })),
  fc.constant(ev('KeyDescriptionUpdated', { description: 'd' })),
  fc.constant(ev('KeyRotationEnabled', { periodDays: 3, nextRotationAt: T0 })),
  fc.option(fc.constant(T0), { nil: null }).map((next) => ev('KeyRotated', { from: 1, to: 2, reason: 'ON_DEMAND', rotatedAt: T0, nextRotationAt: next })),
  tokenId.map((t) => ev('ImportParametersIssued', { tokenId: t, wrappingAlgorithm: 'RSAES_OAEP_SHA_256', wrappingKeySpec: 'RSA_3072', issuedAt: T0, expiresAt: T0 })),
  fc.tuple(tokenId, version).map(([t, v]) => ev('KeyMaterialImported', { tokenId: t, version: v, materialRef: 'm', fingerprint: 'f', isPrimary: true, importedAt: T0 })),
  tokenId.map((t) => ev('ImportTokenExpired', { tokenId: t })),
);

describe('evolve', () => {
  it('is total: any event sequence folds without throwing and never reuses a version number', () => {
    fc.assert(fc.property(fc.array(anyEvent, { maxLength: 60 }), (events) => {
      const state = foldKeyEvents(events);
      if (state.status !== 'Absent') expect(Math.max(0, ...state.versions.keys())).toBe(state.highestVersion);
    }), { numRuns: 500 });
  });
  it('ignores unknown event types from newer writers', () => {
    const created = foldKeyEvents([ev('KeyCreated', {
      tenant: 't', spec: 'SYMMETRIC_DEFAULT', usage: 'ENCRYPT_DECRYPT', origin: 'EKM', description: '', tags: {}, requiredContext: {}, createdAt: T0,
    })]);
    expect(evolve(created, { type: 'KeyFrobnicated', data: { keyId: KEY }, meta: at(T0) } as unknown as KeyEvent)).toBe(created);
  });
});

describe('the generator', () => {
  // Guards against vacuous properties: the random scenarios must reach every status and the version paths.
  it('reaches every key status, several versions, destroyed versions and imports', () => {
    const statuses = new Set<string>();
    let maxVersions = 0;
    let destroyedVersions = 0;
    let imports = 0;
    for (const sc of fc.sample(scenario, { numRuns: 200, seed: 42 })) {
      const { state, accepted, steps } = run(sc);
      for (const e of accepted) if (e.type === 'KeyMaterialImported') imports++;
      for (const e of accepted) if (e.type === 'KeyVersionDestroyed') destroyedVersions++;
      for (const step of steps) statuses.add(step.after.status);
      if (state.status === 'Absent') continue;
      maxVersions = Math.max(maxVersions, state.highestVersion);
    }
    expect([...statuses].sort()).toEqual(['Compromised', 'Destroyed', 'Disabled', 'Enabled', 'PendingDeletion', 'PendingImport']);
    expect(maxVersions).toBeGreaterThanOrEqual(4);
    expect(destroyedVersions).toBeGreaterThan(0);
    expect(imports).toBeGreaterThan(0);
  });
});
