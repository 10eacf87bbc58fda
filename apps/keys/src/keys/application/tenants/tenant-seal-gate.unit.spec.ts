import { ExpectedVersion, InMemoryEventStore, type EventStore } from '@ekm/event-store';
import { tenantStreamId } from '../../domain/tenant-seal';
import { DependencyUnavailableError } from '../dependency-unavailable';
import { StreamTenantSealGate } from './tenant-seal-gate';

const TTL = 500;

function fixture() {
  const store = new InMemoryEventStore();
  let t = 1_000;
  const clock = { advance: (ms: number) => void (t += ms) };
  const gate = new StreamTenantSealGate(store, TTL, () => t);
  const seal = (tenant: string) =>
    store.appendToStream(tenantStreamId(tenant), [{ type: 'TenantSealed', data: { tenant, reason: 'r', secretRequired: false }, meta: { actor: 'admin' } }], { expectedVersion: ExpectedVersion.any });
  return { store, gate, clock, seal };
}

describe('StreamTenantSealGate: the bound when a replica misses the seal event', () => {
  it('a seal whose relayed event never arrives bites once the cached answer is TTL old, not later', async () => {
    const { gate, clock, seal } = fixture();
    expect(await gate.isSealed('acme')).toBe(false);
    await seal('acme'); // committed, but this replica hears nothing (no invalidate)
    clock.advance(TTL - 1);
    expect(await gate.isSealed('acme')).toBe(false); // still the cached answer, inside the bound
    clock.advance(1);
    expect(await gate.isSealed('acme')).toBe(true);
    expect(await gate.isSealed('other')).toBe(false);
  });

  it('the relayed event (invalidate) makes the seal bite at once', async () => {
    const { gate, seal } = fixture();
    expect(await gate.isSealed('acme')).toBe(false);
    await seal('acme');
    gate.invalidate('acme');
    expect(await gate.isSealed('acme')).toBe(true);
  });

  it('a read that started before an invalidate does not cache its (older) answer', async () => {
    const { store, seal } = fixture();
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    const slow: EventStore = Object.create(store);
    slow.readStream = async (...args: Parameters<EventStore['readStream']>) => {
      const events = await store.readStream(...args);
      await held;
      return events;
    };
    const g = new StreamTenantSealGate(slow, TTL, () => 1_000);
    const first = g.isSealed('acme');
    await seal('acme');
    g.invalidate('acme');
    release();
    expect(await first).toBe(false); // what it read, served to its own caller only
    expect(await g.isSealed('acme')).toBe(true); // not cached: read again
    expect(g.stats.reads).toBe(2);
  });

  it('a seal state that cannot be read refuses (DependencyUnavailableError), never answers "open"', async () => {
    const { store } = fixture();
    const broken: EventStore = Object.create(store);
    broken.readStream = () => Promise.reject(new Error('connection refused'));
    const g = new StreamTenantSealGate(broken, TTL, () => 1_000);
    await expect(Promise.resolve(g.isSealed('acme'))).rejects.toBeInstanceOf(DependencyUnavailableError);
  });
});
