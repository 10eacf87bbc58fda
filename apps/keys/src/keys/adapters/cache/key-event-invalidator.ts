/**
 * Cross-replica invalidation (a replica must not serve a key state or KEK another replica changed): every replica listens on core NATS to `ekm.events.keys.>`,
 * where the outbox relay publishes each committed key event (header `Ekm-Stream-Id` = `key-<id>`).
 * Any event of a key drops its cached state; events that take material out of use also drop its cached
 * KEKs (zeroed). Core NATS rather than a durable consumer: only what is cached NOW matters, and a lost
 * message is bounded by the state reader's own TTL (≤ 500 ms) and the KEK cache TTL.
 */
import { EventHeader } from '@ekm/event-store';
import type { Msg, NatsConnection, Subscription } from '@nats-io/transport-node';
import type { KeyStateReader } from '../../application/ports';
import type { KekSource } from '../../application/crypto/crypto.ports';

export const KEY_EVENTS_SUBJECT = 'ekm.events.keys.>';
const KEY_STREAM_PREFIX = 'key-';
const TENANT_STREAM_PREFIX = 'tenant-';

/** Events after which no cached KEK of the key may be used again without re-reading state. */
export const KEK_DROPPING_EVENTS: ReadonlySet<string> = new Set([
  'KeyDisabled', 'KeyRevoked', 'KeyDestroyed', 'KeyVersionDisabled', 'KeyVersionDestroyed', 'KeyVersionCompromised', 'KeyDeletionScheduled',
]);

export interface InvalidatorLogger {
  warn(obj: object, msg?: string): void;
}

export class KeyEventInvalidator {
  private sub: Subscription | null = null;
  /** Counters for tests and metrics. */
  readonly stats = { stateInvalidations: 0, kekInvalidations: 0 };

  constructor(
    private readonly nc: NatsConnection,
    private readonly reader: KeyStateReader,
    private readonly keks: KekSource,
    private readonly logger: InvalidatorLogger,
    /** A tenant's seal stream (`tenant-<tenant>`) changed: drop its cached seal answer and material. */
    private readonly onTenantEvent?: (tenant: string) => void,
  ) {}

  /** Subscribes and flushes, so the server has the SUB before the service reports ready. */
  async start(): Promise<void> {
    if (this.sub) return;
    this.sub = this.nc.subscribe(KEY_EVENTS_SUBJECT, { callback: (err, msg) => (err ? this.logger.warn({ err: err.message }, 'key event subscription error') : this.onMessage(msg)) });
    await this.nc.flush();
  }

  onMessage(msg: Msg): void {
    const streamId = msg.headers?.get(EventHeader.StreamId) ?? '';
    if (streamId.startsWith(TENANT_STREAM_PREFIX)) {
      this.onTenantEvent?.(streamId.slice(TENANT_STREAM_PREFIX.length));
      return;
    }
    // Usage records (`usage-<instance>`) and other streams share the subject space: ignore them cheaply.
    if (!streamId.startsWith(KEY_STREAM_PREFIX)) return;
    const keyId = streamId.slice(KEY_STREAM_PREFIX.length);
    const type = msg.headers?.get(EventHeader.EventType) ?? msg.subject.slice(msg.subject.lastIndexOf('.') + 1);
    this.invalidate(keyId, type);
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
    const sub = this.sub;
    this.sub = null;
    if (sub && !sub.isClosed()) sub.unsubscribe();
    await Promise.resolve();
  }
}
