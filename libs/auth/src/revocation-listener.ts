/**
 * Feeds a {@link RevocationList} from the policy service's relayed events over core NATS: every replica
 * of every service subscribes (no queue group) to `ekm.events.policy.<Type>` for the revocation types,
 * so a revocation reaches all of them within one publish (well under the 1 s target). A message lost
 * while a replica is disconnected is bounded by the session lifetime (10 min by default).
 */
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

  stop(): void {
    for (const s of this.subs) s.unsubscribe();
    this.subs = [];
  }
}
