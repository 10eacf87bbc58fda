/** Stream ids and the generic load → decide → append loop of principal and policy streams. */
import { ConcurrencyConflictError, ExpectedVersion, type EventStore, type InlineProjection, type RecordedEvent } from '@ekm/event-store';

export const principalStreamId = (principalId: string): string => `principal-${principalId}`;
export const policyStreamId = (policyId: string): string => `policy-${policyId}`;

const MAX_ATTEMPTS = 5;

export interface StreamCommand<E, S, R> {
  readonly streamId: string;
  readonly commandId?: string;
  readonly fold: (events: readonly E[]) => S;
  readonly decide: (state: S) => { ok: true; events: E[] } | { ok: false; rejection: R };
}

export type StreamOutcome<S, R> = { ok: true; state: S; duplicate: boolean } | { ok: false; rejection: R };

/** Bounded retries on a concurrent append; a command id already in the stream is answered with the current state. */
export async function runStreamCommand<E extends { type: string; data: unknown; meta: object }, S, R>(
  store: EventStore, inline: readonly InlineProjection[], cmd: StreamCommand<E, S, R>,
): Promise<StreamOutcome<S, R>> {
  const asEvents = (rs: readonly RecordedEvent[]): E[] => rs.map((r) => ({ type: r.type, data: r.data, meta: r.meta }) as unknown as E);
  for (let attempt = 1; ; attempt++) {
    const recorded = await store.readStream(cmd.streamId);
    if (cmd.commandId !== undefined && recorded.some((e) => e.meta.commandId === cmd.commandId)) return { ok: true, state: cmd.fold(asEvents(recorded)), duplicate: true };
    const decision = cmd.decide(cmd.fold(asEvents(recorded)));
    if (!decision.ok) return decision;
    try {
      const r = await store.appendToStream(cmd.streamId, decision.events as never, {
        expectedVersion: ExpectedVersion.fromVersion(recorded.length),
        ...(cmd.commandId !== undefined ? { commandId: cmd.commandId } : {}),
        inline,
      });
      return { ok: true, state: cmd.fold([...asEvents(recorded), ...decision.events]), duplicate: r.duplicate };
    } catch (err) {
      if (!(err instanceof ConcurrencyConflictError) || attempt >= MAX_ATTEMPTS) throw err;
      await new Promise((res) => setTimeout(res, 5 * attempt + Math.random() * 10));
    }
  }
}
