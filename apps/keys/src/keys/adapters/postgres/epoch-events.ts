/** EPOCH_EVENTS in the keys event log (stream `root-epochs`): relayed to JetStream and into the audit trail like every keys event. */
import type { EventStore } from '@ekm/event-store';
import { ExpectedVersion } from '@ekm/event-store';
import type { EpochEnded, EpochEvents } from '../../application/epochs/epoch.ports';

export const EPOCH_STREAM = 'root-epochs';
export const EPOCH_ACTOR = 'ekm-keys/epoch-roller';

export class LogEpochEvents implements EpochEvents {
  constructor(private readonly store: EventStore) {}

  async epochEnded(e: EpochEnded): Promise<void> {
    await this.store.appendToStream(EPOCH_STREAM, [{ type: 'EpochEnded', data: { ...e }, meta: { actor: EPOCH_ACTOR } }], { expectedVersion: ExpectedVersion.any });
  }
}
