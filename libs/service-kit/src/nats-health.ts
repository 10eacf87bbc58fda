/**
 * Whether the shared NATS connection is usable right now: follows the client's status stream
 * (disconnect / reconnect / close), so the readiness check costs no round trip.
 */
import type { NatsConnection } from '@nats-io/transport-node';

export class NatsConnectionState {
  private connected = true;

  constructor(private readonly nc: NatsConnection) {
    void this.follow();
  }

  private async follow(): Promise<void> {
    for await (const s of this.nc.status()) {
      if (s.type === 'disconnect' || s.type === 'reconnecting' || s.type === 'close') this.connected = false;
      else if (s.type === 'reconnect') this.connected = true;
    }
    this.connected = false;
  }

  /** Readiness check: `true`, or why not. */
  check(): true | string {
    if (this.nc.isClosed()) return 'connection closed';
    if (this.nc.isDraining()) return 'connection draining';
    return this.connected ? true : 'disconnected from NATS; reconnecting';
  }
}
