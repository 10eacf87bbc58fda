/**
 * Cross-replica invalidation (a replica must not serve a key state or KEK another replica changed).
 * Every replica subscribes on core NATS to the lifecycle subjects `ekm.events.keys.<KeyEventType>`, one
 * per type, so the server never sends it usage records (`ekm.events.keys.KeyUsageRecorded`, the bulk of
 * the stream), and to the relay heartbeat `ekm.relay.keys.heartbeat`. Any lifecycle event of a key drops
 * its cached state; events that take material out of use also drop its cached KEKs (zeroed).
 *
 * Core NATS rather than a durable consumer: only what is cached NOW matters. A lost message is detected
 * by CacheTrust (the relay numbers lifecycle events and heartbeats its latest number): a gap, a relay
 * change or a disconnect flushes both caches, a late heartbeat suspends trust, and the caches then keep
 * entries only for their short TTL, the bound that held before any of this.
 */
import { EventHeader, eventSubject, relayHeartbeatSubject } from '@ekm/event-store';
import type { Msg, NatsConnection, Subscription } from '@nats-io/transport-node';
import { KEY_EVENT_TYPES } from '../../domain';
import { TENANT_SEAL_EVENT_TYPES } from '../../domain/tenant-seal';
import type { KeyStateReader } from '../../application/ports';
import type { KekSource } from '../../application/crypto/crypto.ports';
import type { CacheTrust } from './cache-trust';

/** The subjects a replica hears: lifecycle events only. */
export const KEY_LIFECYCLE_SUBJECTS: readonly string[] = [
  ...KEY_EVENT_TYPES.map((t) => eventSubject('keys', t)),
  // The tenant kill switch: a seal drops the tenant's cached seal answer and every cached KEK at once.
  ...TENANT_SEAL_EVENT_TYPES.map((t) => eventSubject('keys', t)),
];
export const KEY_RELAY_HEARTBEAT_SUBJECT = relayHeartbeatSubject('keys');
const LIFECYCLE_TYPES: ReadonlySet<string> = new Set(KEY_EVENT_TYPES);
/** What the relay numbers: exactly the types this invalidator subscribes to (a gap in them is a loss). */
export const isSequencedKeyEvent = (eventType: string): boolean => LIFECYCLE_TYPES.has(eventType);
const KEY_STREAM_PREFIX = 'key-';
const TENANT_STREAM_PREFIX = 'tenant-';

/** Events after which no cached KEK of the key may be used again without re-reading state. */
export const KEK_DROPPING_EVENTS: ReadonlySet<string> = new Set([
  'KeyDisabled', 'KeyRevoked', 'KeyDestroyed', 'KeyVersionDisabled', 'KeyVersionDestroyed', 'KeyVersionCompromised', 'KeyDeletionScheduled',
]);

export interface InvalidatorLogger {
  warn(obj: object, msg?: string): void;
}

/** The state cache's side of invalidation; both caches flush on a loss of trust. */
export interface FlushableStateReader extends KeyStateReader {
  clear?(): void;
}

export class KeyEventInvalidator {
  private subs: Subscription[] = [];
  private watching = false;
  /** Counters for tests and metrics. */
  readonly stats = { stateInvalidations: 0, kekInvalidations: 0, flushes: 0 };

  constructor(
    private readonly nc: NatsConnection,
    private readonly reader: FlushableStateReader,
    private readonly keks: KekSource,
    private readonly trust: CacheTrust,
    private readonly logger: InvalidatorLogger,
    /** A tenant's seal stream (`tenant-<tenant>`) changed: drop its cached seal answer and material. */
    private readonly onTenantEvent?: (tenant: string) => void,
  ) {
    trust.onFlush((reason) => {
      this.stats.flushes++;
      this.reader.clear?.();
      this.keks.clear();
      this.logger.warn({ reason }, 'key caches flushed: a relayed key event may have been missed');
    });
  }

  /** Subscribes and flushes, so the server has every SUB before the service reports ready. */
  async start(): Promise<void> {
    if (this.subs.length > 0) return;
    const onError = (err: Error): void => this.logger.warn({ err: err.message }, 'key event subscription error');
    for (const subject of KEY_LIFECYCLE_SUBJECTS) {
      this.subs.push(this.nc.subscribe(subject, { callback: (err, msg) => (err ? onError(err) : this.onMessage(msg)) }));
    }
    this.subs.push(this.nc.subscribe(KEY_RELAY_HEARTBEAT_SUBJECT, { callback: (err, msg) => (err ? onError(err) : this.trust.heartbeat(msg.headers?.get(EventHeader.RelaySequence))) }));
    void this.watchConnection();
    await this.nc.flush();
  }

  onMessage(msg: Msg): void {
    const streamId = msg.headers?.get(EventHeader.StreamId) ?? '';
    if (streamId.startsWith(TENANT_STREAM_PREFIX)) {
      this.onTenantEvent?.(streamId.slice(TENANT_STREAM_PREFIX.length));
      return;
    }
    const type = msg.headers?.get(EventHeader.EventType) ?? msg.subject.slice(msg.subject.lastIndexOf('.') + 1);
    if (streamId.startsWith(KEY_STREAM_PREFIX)) this.invalidate(streamId.slice(KEY_STREAM_PREFIX.length), type);
    // After the invalidation: the number is accounted for only once its effect is applied.
    this.trust.event(msg.headers?.get(EventHeader.RelaySequence));
  }

  invalidate(keyId: string, eventType: string): void {
    this.reader.invalidate(keyId);
    this.stats.stateInvalidations++;
    if (KEK_DROPPING_EVENTS.has(eventType)) {
      this.keks.invalidate(keyId);
      this.stats.kekInvalidations++;
    }
  }

  async stop(): Promise<void> {
    const subs = this.subs;
    this.subs = [];
    this.watching = false;
    for (const sub of subs) if (!sub.isClosed()) sub.unsubscribe();
    await Promise.resolve();
  }

  /** A disconnect may have lost messages: whatever was cached before it is not trusted after it. */
  private async watchConnection(): Promise<void> {
    this.watching = true;
    try {
      for await (const s of this.nc.status()) {
        if (!this.watching) return;
        if (s.type === 'disconnect' || s.type === 'reconnect') this.trust.disconnected();
      }
    } catch (err) {
      this.logger.warn({ err: err instanceof Error ? err.message : String(err) }, 'NATS status watch ended');
      this.trust.disconnected();
    }
  }
}
