import fc from 'fast-check';
import { DiscardPolicy, RetentionPolicy, StorageType } from '@nats-io/jetstream';
import { diffStream, toStreamConfig } from './ensure-streams';
import { eventStreamName, eventStreamSpec, eventSubject, type StreamSpec } from './event-streams';
import { backoffDelay } from './retry-delay';
import { isRetriable, InvalidMessageError, TerminalError } from './consumer.errors';

const specArb: fc.Arbitrary<StreamSpec> = fc.record({
  name: fc.constant('EKM_X_EVENTS'),
  subjects: fc.uniqueArray(fc.stringMatching(/^[a-z]{1,5}(\.[a-z]{1,5}){0,2}$/), { minLength: 1, maxLength: 4 }),
  retention: fc.constantFrom(RetentionPolicy.Limits, RetentionPolicy.Interest, RetentionPolicy.Workqueue),
  storage: fc.constantFrom(StorageType.File, StorageType.Memory),
  maxAgeMs: fc.integer({ min: 0, max: 10 ** 9 }),
  maxBytes: fc.oneof(fc.constant(-1), fc.integer({ min: 1, max: 2 ** 40 })),
  duplicateWindowMs: fc.integer({ min: 0, max: 10 ** 8 }),
  replicas: fc.integer({ min: 1, max: 5 }),
  discard: fc.constantFrom(DiscardPolicy.Old, DiscardPolicy.New),
});

describe('stream spec', () => {
  it('names the service stream and subjects per docs/development.md', () => {
    const spec = eventStreamSpec('keys');
    expect(spec).toMatchObject({ name: 'EKM_KEYS_EVENTS', subjects: ['ekm.events.keys.>'], storage: 'file', duplicateWindowMs: 600_000 });
    expect(eventStreamSpec('keys', { duplicateWindowMs: 120_000 }).duplicateWindowMs).toBe(120_000);
    expect(eventSubject('keys', 'KeyCreated')).toBe('ekm.events.keys.KeyCreated');
    expect(eventSubject('keys', 'Key.Created')).toBe('ekm.events.keys.Key.Created');
    expect(() => eventSubject('keys', 'Key.*')).toThrow(/subject tokens/);
    expect(() => eventSubject('keys', 'a..b')).toThrow(/subject tokens/);
    expect(() => eventStreamName('Keys')).toThrow();
  });

  it('a spec applied as config shows no drift (any order of subjects)', () => {
    fc.assert(
      fc.property(specArb, (spec) => {
        const config = toStreamConfig(spec);
        expect(diffStream(spec, { ...config, subjects: [...(config.subjects ?? [])].reverse() } as never)).toEqual([]);
      }),
    );
  });

  it('each changed field is reported once with expected and actual', () => {
    fc.assert(
      fc.property(specArb, specArb, (spec, other) => {
        const drift = diffStream(spec, toStreamConfig({ ...other, name: spec.name }) as never);
        const fields = drift.map((d) => d.field);
        expect(new Set(fields).size).toBe(fields.length);
        for (const d of drift) expect(d.expected).not.toEqual(d.actual);
        expect(fields.includes('replicas')).toBe(spec.replicas !== other.replicas);
        expect(fields.includes('duplicateWindowMs')).toBe(spec.duplicateWindowMs !== other.duplicateWindowMs);
      }),
    );
  });
});

describe('backoff and error classes', () => {
  it('grows, caps, and never goes negative', () => {
    const p = { initialMs: 100, maxMs: 1_000 };
    expect([1, 2, 3, 4, 5, 10].map((n) => backoffDelay(n, p))).toEqual([100, 200, 400, 800, 1000, 1000]);
    fc.assert(fc.property(fc.integer({ min: -5, max: 100 }), fc.double({ min: 0, max: 1, noNaN: true }), (n, r) => {
      const d = backoffDelay(n, { ...p, jitter: 0.5 }, () => r);
      return d >= 0 && d <= 1_000;
    }));
  });

  it('handler errors are retriable unless terminal', () => {
    expect(isRetriable(new Error('db down'))).toBe(true);
    expect(isRetriable(Object.assign(new Error('conflict'), { retriable: true }))).toBe(true);
    expect(isRetriable(Object.assign(new Error('bad state'), { retriable: false }))).toBe(false);
    expect(isRetriable(new TerminalError('never'))).toBe(false);
    expect(isRetriable(new InvalidMessageError('not json'))).toBe(false);
    expect(isRetriable('string thrown')).toBe(true);
  });
});
