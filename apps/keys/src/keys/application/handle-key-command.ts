/**
 * KEY_COMMAND_HANDLER: load the key stream → fold → decide → append with the expected version, the
 * inline key projection and the material writes in ONE transaction; bounded retries on a concurrent
 * append. `meta.commandId` (the `Ekm-Request-Id`) makes retries of one call one command: a command id
 * already in the stream answers with the current state and appends nothing.
 */
import { Inject, Injectable } from '@nestjs/common';
import {
  ConcurrencyConflictError, EVENT_STORE, ExpectedVersion, type EventStore, type InlineProjection, type TransactionContext,
} from '@ekm/event-store';
import {
  decide, foldKeyEvents, isExistingKey, type KeyCommand, type KeyEvent, type KeyLifecycleLimits, type KeyState,
} from '../domain';
import type { WrappedKek } from './epochs/epoch.ports';
import { keyStreamId, toKeyEvent } from './key-stream';
import {
  KEY_MATERIAL_STORE, KEY_STATE_READER, type CommandOutcome, type KeyCommandHandler, type KeyMaterialStore, type KeyStateReader,
} from './ports';

/** The lifecycle bounds passed to `decide` (deletion window from EKM_DELETION_MIN_DAYS). */
export const KEY_LIMITS = Symbol('KEY_LIMITS');
/** Inline projections run in every key append (the key projection). */
export const KEY_INLINE_PROJECTIONS = Symbol('KEY_INLINE_PROJECTIONS');
const MAX_ATTEMPTS = 5;

export interface HandleOptions {
  /**
   * Epoch-wrapped material of the version the command adds. Written under the version number the
   * decision assigns (after a conflict retry it may differ from `version`) and the event's materialRef.
   */
  readonly material?: { readonly version: number; readonly wrapped: WrappedKek };
  /** Further writes that must commit with the events (import tokens); gets the appended events. */
  readonly alsoInTransaction?: (tx: TransactionContext, events: readonly KeyEvent[]) => Promise<void>;
  /**
   * The stream version the caller based its command on (the rotation scheduler's projection). A retry of
   * an already applied command id is answered first; otherwise a different version refuses the command.
   */
  readonly expectedVersion?: number;
}

/** The key stream moved past the caller's `expectedVersion`: re-read and decide again. */
export class StaleExpectedVersionError extends Error {
  override readonly name = 'StaleExpectedVersionError';
  constructor(readonly keyId: string, readonly expected: number, readonly actual: number) {
    super(`key ${keyId} is at stream version ${actual}, not the expected ${expected}; re-read it and retry`);
  }
}

/**
 * The command id (operation + `Ekm-Request-Id`) is already in the key's stream, but from another principal
 * (or, for CreateKey, for another tenant): not a retry. Refused without a word about the recorded command.
 */
export class RequestIdReusedError extends Error {
  override readonly name = 'RequestIdReusedError';
  constructor(readonly requestId: string) {
    super(`Ekm-Request-Id ${requestId} was already used by another caller; send a fresh request id`);
  }
}

/** Thrown when a command adds a version but no material was given: a bug in the caller. */
export class MissingMaterialError extends Error {
  override readonly name = 'MissingMaterialError';
}

@Injectable()
export class HandleKeyCommand implements KeyCommandHandler {
  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(KEY_MATERIAL_STORE) private readonly material: KeyMaterialStore,
    @Inject(KEY_STATE_READER) private readonly reader: KeyStateReader,
    @Inject(KEY_LIMITS) private readonly limits: KeyLifecycleLimits,
    @Inject(KEY_INLINE_PROJECTIONS) private readonly inline: readonly InlineProjection[],
  ) {}

  async handle(cmd: KeyCommand, opts: HandleOptions = {}): Promise<CommandOutcome> {
    const keyId = cmd.data.keyId;
    const streamId = keyStreamId(keyId);
    for (let attempt = 1; ; attempt++) {
      const recorded = await this.store.readStream(streamId);
      const state = foldKeyEvents(recorded.map(toKeyEvent));
      const commandId = cmd.meta.commandId;
      if (commandId !== undefined && recorded.some((e) => e.meta.commandId === commandId)) return done(assertSameCaller(cmd, recorded, state), recorded.length);
      if (opts.expectedVersion !== undefined && opts.expectedVersion !== recorded.length) throw new StaleExpectedVersionError(keyId, opts.expectedVersion, recorded.length);
      const decision = decide(cmd, state, this.limits);
      if (!decision.ok) return decision;
      if (decision.events.length === 0) return done(state, recorded.length);
      try {
        const result = await this.store.appendToStream(streamId, decision.events, {
          expectedVersion: ExpectedVersion.fromVersion(recorded.length),
          ...(commandId !== undefined ? { commandId } : {}),
          inline: this.inline,
          alsoInTransaction: (tx) => this.writeMaterial(tx, keyId, decision.events, opts),
        });
        this.reader.invalidate(keyId);
        if (result.duplicate) {
          const now = await this.store.readStream(streamId);
          return done(assertSameCaller(cmd, now, foldKeyEvents(now.map(toKeyEvent))), result.nextExpectedVersion);
        }
        return done(foldKeyEvents(decision.events, state), result.nextExpectedVersion);
      } catch (err) {
        if (!(err instanceof ConcurrencyConflictError) || attempt >= MAX_ATTEMPTS) throw err;
        await new Promise((r) => setTimeout(r, 5 * attempt + Math.random() * 10));
      }
    }
  }

  private async writeMaterial(tx: TransactionContext, keyId: string, events: readonly KeyEvent[], opts: HandleOptions): Promise<void> {
    for (const e of events) {
      switch (e.type) {
        case 'KeyVersionAdded':
        case 'KeyMaterialImported': {
          if (opts.material === undefined) throw new MissingMaterialError(`${e.type} for key ${keyId} without material`);
          await this.material.put(tx, keyId, e.data.version, opts.material.wrapped, e.data.materialRef);
          break;
        }
        case 'KeyVersionDestroyed':
          await this.material.deleteVersion(tx, keyId, e.data.version);
          break;
        case 'KeyDestroyed':
          // Crypto-shredding: the material goes in the transaction that records KeyDestroyed (which also ends the epoch).
          await this.material.deleteAll(tx, keyId);
          break;
        default:
          break;
      }
    }
    await opts.alsoInTransaction?.(tx, events);
  }
}

/**
 * A repeated command id answers with the key's state only to the caller who sent it first: the request id
 * is chosen by callers, so another principal could present someone else's (the attack: CreateKey with
 * A's request id returned A's KeyInfo). For CreateKey the tenant must match too.
 */
function assertSameCaller(cmd: KeyCommand, recorded: readonly { readonly meta: { readonly commandId?: string; readonly actor: string } }[], state: KeyState): KeyState {
  const first = recorded.find((e) => e.meta.commandId === cmd.meta.commandId);
  const requestId = cmd.meta.correlationId ?? cmd.meta.commandId ?? '';
  if (first !== undefined && first.meta.actor !== cmd.meta.actor) throw new RequestIdReusedError(requestId);
  if (cmd.type === 'CreateKey' && isExistingKey(state) && state.tenant !== cmd.data.tenant) throw new RequestIdReusedError(requestId);
  return state;
}

function done(state: KeyState, streamVersion: number): CommandOutcome {
  if (!isExistingKey(state)) throw new Error('programmer error: an accepted command left no key');
  return { ok: true, state, streamVersion };
}
