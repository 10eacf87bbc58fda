/**
 * KeyEventInvalidator against a real nats-server (its own, so no other suite's keys events interfere):
 * the server sends it lifecycle events and heartbeats only, never usage records; a sequence gap, a relay
 * change and a disconnect flush both caches; a heartbeat keeps them trusted.
 */
import { connect, headers, type NatsConnection } from '@nats-io/transport-node';
import { EventHeader } from '@ekm/event-store';
import { startNats, stopServer, type ServerHandle } from '../../../../../../test/support/servers';
import { waitFor } from '../../../../../../test/support/wait-for';
import type { KekSource } from '../../application/crypto/crypto.ports';
import { CacheTrust } from './cache-trust';
import { KEY_RELAY_HEARTBEAT_SUBJECT, KeyEventInvalidator, type FlushableStateReader } from './key-event-invalidator';

class RecordingReader implements FlushableStateReader {
  readonly invalidated: string[] = [];
  clears = 0;
  load = (): Promise<null> => Promise.resolve(null);
  resolve = (): Promise<null> => Promise.resolve(null);
  invalidate(keyId: string): void {
    this.invalidated.push(keyId);
  }
  clear(): void {
    this.clears++;
  }
}

class RecordingKeks implements KekSource {
  readonly invalidated: string[] = [];
  clears = 0;
  withKek<T>(): Promise<T> {
    return Promise.reject(new Error('not used'));
  }
  invalidate(keyId: string): void {
    this.invalidated.push(keyId);
  }
  clear(): void {
    this.clears++;
  }
  readonly tenantsCleared: string[] = [];
  clearTenant(tenant: string): void {
    this.tenantsCleared.push(tenant);
  }
}

describe('KeyEventInvalidator (real nats-server)', () => {
  let nats: ServerHandle;
  let pub: NatsConnection;
  let sub: NatsConnection;
  let reader: RecordingReader;
  let keks: RecordingKeks;
  let trust: CacheTrust;
  let inv: KeyEventInvalidator;

  const event = (type: string, keyId: string, seq?: string): void => {
    const h = headers();
    h.set(EventHeader.StreamId, `key-${keyId}`);
    h.set(EventHeader.EventType, type);
    if (seq !== undefined) h.set(EventHeader.RelaySequence, seq);
    pub.publish(`ekm.events.keys.${type}`, '{}', { headers: h });
  };
  const beat = (seq: string): void => {
    const h = headers();
    h.set(EventHeader.RelaySequence, seq);
    pub.publish(KEY_RELAY_HEARTBEAT_SUBJECT, '', { headers: h });
  };

  beforeAll(async () => {
    nats = await startNats();
  });
  afterAll(async () => {
    if (nats) await stopServer(nats);
  });
  beforeEach(async () => {
    pub = await connect({ servers: nats.url });
    sub = await connect({ servers: nats.url, maxReconnectAttempts: -1, reconnectTimeWait: 50 });
    reader = new RecordingReader();
    keks = new RecordingKeks();
    trust = new CacheTrust({ boundMs: 60_000 }); // freshness is not what these cases test
    inv = new KeyEventInvalidator(sub, reader, keks, trust, { warn: () => undefined });
    await inv.start();
  });
  afterEach(async () => {
    await inv.stop();
    await pub.close();
    await sub.close();
  });

  it('receives lifecycle events, not usage records: the server filters by subject', async () => {
    const before = sub.stats().inMsgs;
    for (let i = 0; i < 50; i++) {
      const h = headers();
      h.set(EventHeader.StreamId, 'usage-replica-1');
      h.set(EventHeader.EventType, 'KeyUsageRecorded');
      pub.publish('ekm.events.keys.KeyUsageRecorded', '{}', { headers: h });
    }
    event('KeyDisabled', 'k1', '1:1');
    await pub.flush();
    await waitFor(() => reader.invalidated.length === 1, { what: 'the KeyDisabled invalidation' });
    expect(reader.invalidated).toEqual(['k1']);
    expect(keks.invalidated).toEqual(['k1']);
    // Exactly one message crossed the wire to this connection: the 50 usage records never did.
    expect(sub.stats().inMsgs - before).toBe(1);
  });

  it('a heartbeat after every number was seen trusts the caches; a skipped number flushes both', async () => {
    beat('7:0');
    event('KeyTagged', 'k2', '7:1');
    beat('7:1');
    await pub.flush();
    await waitFor(() => trust.stats.heartbeats === 2, { what: 'two heartbeats' });
    expect(trust.isTrusted).toBe(true);
    expect(reader.clears).toBe(0);
    event('KeyTagged', 'k2', '7:3'); // 7:2 was lost
    await pub.flush();
    await waitFor(() => reader.clears === 1, { what: 'the flush' });
    expect(keks.clears).toBe(1);
    expect(trust.isTrusted).toBe(false);
    expect(inv.stats.flushes).toBe(1);
    // A heartbeat at the adopted position regains trust for later loads.
    beat('7:3');
    await pub.flush();
    await waitFor(() => trust.isTrusted, { what: 'trust regained' });
  });

  it('a heartbeat ahead of the events (the last event was lost) and a new relay (fencing) both flush', async () => {
    beat('3:0');
    event('KeyEnabled', 'k3', '3:1');
    beat('3:2');
    await pub.flush();
    await waitFor(() => reader.clears === 1, { what: 'the flush on a heartbeat ahead' });
    beat('3:2');
    event('KeyEnabled', 'k3', '4:1');
    await pub.flush();
    await waitFor(() => reader.clears === 2, { what: 'the flush on a new fencing' });
    expect(keks.clears).toBe(2);
  });

  it('a NATS disconnect flushes both caches (messages may have been lost meanwhile)', async () => {
    beat('1:0');
    await pub.flush();
    await waitFor(() => trust.isTrusted, { what: 'trust' });
    const { port } = nats;
    await stopServer(nats, { keepDir: true });
    await waitFor(() => reader.clears >= 1, { what: 'the flush on disconnect' });
    expect(keks.clears).toBeGreaterThanOrEqual(1);
    expect(trust.isTrusted).toBe(false);
    nats = await startNats({ port });
    await waitFor(async () => {
      try {
        await sub.flush();
        return true;
      } catch {
        return false;
      }
    }, { what: 'the reconnect' });
    // After the reconnect nothing is trusted until a heartbeat is heard again.
    expect(trust.isTrusted).toBe(false);
  });
});
