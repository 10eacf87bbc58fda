/**
 * Feeds a {@link RevocationList} from the policy service's relayed events over core NATS: every replica
 * of every service subscribes (no queue group) to `ekm.events.policy.<Type>` for the revocation types,
 * so a revocation reaches all of them within one publish (well under the 1 s target). A message lost
 * while a replica is disconnected is bounded by the session lifetime (10 min by default).
 *
 * A replica that starts (or restarts) would otherwise know no revocation older than itself, and accept a
 * revoked session again until it expires: {@link RevocationListener.replay} reads the revocations of the
 * last `windowMs` from the policy service's JetStream stream (`EKM_POLICY_EVENTS`), after the live
 * subscription is up, so that nothing falls between the two (adding one twice is harmless).
 */
import { DeliverPolicy, jetstream, JetStreamApiCodes, JetStreamApiError } from '@nats-io/jetstream';
import type { NatsConnection, Subscription } from '@nats-io/transport-node';
import type { Logger } from '@ekm/telemetry';
import { REVOCATION_EVENT_TYPES, revocationOf, type RevocationList } from './revocation-list';

/** Subject of a policy event type on the bus (the outbox relay's naming). */
export const policyEventSubject = (type: string): string => `ekm.events.policy.${type}`;

export class RevocationListener {
  private subs: Subscription[] = [];

  constructor(private readonly nc: NatsConnection, private readonly list: RevocationList, private readonly logger?: Logger) {}

  /** Subscribes and flushes, so revocations published after this resolves are seen. */
  async start(): Promise<void> {
    for (const type of REVOCATION_EVENT_TYPES) {
      this.subs.push(this.nc.subscribe(policyEventSubject(type), {
        callback: (err, msg) => {
          if (err) return this.logger?.warn({ err: err.message }, 'revocation subscription error');
          let envelope: { type?: unknown; data?: unknown };
          try {
            envelope = msg.json<{ type?: unknown; data?: unknown }>();
          } catch {
            return this.logger?.warn({ subject: msg.subject }, 'revocation event is not JSON; ignored');
          }
          const r = revocationOf(typeof envelope.type === 'string' ? envelope.type : type, envelope.data);
          if (r) this.list.add(r);
          else this.logger?.warn({ subject: msg.subject }, 'revocation event without the expected id; ignored');
        },
      }));
    }
    await this.nc.flush();
  }

  /**
   * Adds the revocations published on `stream` during the last `windowMs`, each remembered from its publish
   * time (so it is forgotten when it would have been, had it arrived live). Resolves with how many were
   * added; a missing stream (the policy service never ran) is 0. One ordered consumer per revocation type
   * (nats-server 2.9 has no multi-filter consumers), each read until it has nothing pending.
   */
  async replay(stream: string, windowMs: number, now: number = Date.now()): Promise<number> {
    const js = jetstream(this.nc);
    const since = new Date(now - windowMs).toISOString();
    let added = 0;
    for (const type of REVOCATION_EVENT_TYPES) {
      let consumer;
      try {
        consumer = await js.consumers.get(stream, { filter_subjects: policyEventSubject(type), deliver_policy: DeliverPolicy.StartTime, opt_start_time: since });
      } catch (err) {
        if (err instanceof JetStreamApiError && err.code === JetStreamApiCodes.StreamNotFound) return added; // no such stream: nothing was ever revoked
        throw err;
      }
      let pending = (await consumer.info(true)).num_pending;
      while (pending > 0) {
        const batch = await consumer.fetch({ max_messages: Math.min(pending, 500), expires: 5_000 });
        let got = 0;
        for await (const m of batch) {
          got++;
          pending = m.info.pending;
          let envelope: { type?: unknown; data?: unknown };
          try {
            envelope = m.json<{ type?: unknown; data?: unknown }>();
          } catch {
            continue;
          }
          const r = revocationOf(typeof envelope.type === 'string' ? envelope.type : type, envelope.data);
          if (r) {
            this.list.add(r, m.time.getTime());
            added++;
          }
        }
        if (got === 0) throw new Error(`replaying ${type} from ${stream}: no message within 5 s although ${pending} were pending`);
      }
    }
    return added;
  }

  stop(): void {
    for (const s of this.subs) s.unsubscribe();
    this.subs = [];
  }
}
