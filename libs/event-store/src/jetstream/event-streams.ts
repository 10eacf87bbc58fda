/**
 * Names and the stream spec of a service's event stream (docs/development.md "Shared names"):
 * stream `EKM_<SERVICE>_EVENTS`, subjects `ekm.events.<service>.<EventType>`.
 */
import { DiscardPolicy, RetentionPolicy, StorageType } from '@nats-io/jetstream';
import { assertServiceName } from '../postgres/service-schema';

/** The settings EKM pins on a stream. Times are milliseconds (NATS stores nanoseconds). */
export interface StreamSpec {
  readonly name: string;
  readonly subjects: readonly string[];
  readonly retention: RetentionPolicy;
  readonly storage: StorageType;
  /** 0 = keep forever. */
  readonly maxAgeMs: number;
  /** -1 = unlimited. */
  readonly maxBytes: number;
  /** JetStream drops a re-published `Nats-Msg-Id` inside this window (relay restarts, reconciler). */
  readonly duplicateWindowMs: number;
  readonly replicas: number;
  readonly discard: DiscardPolicy;
}

export interface EventStreamOptions {
  /** Default 10 minutes: must exceed the longest relay outage after which a batch is re-published. */
  readonly duplicateWindowMs?: number;
  readonly maxAgeMs?: number;
  readonly maxBytes?: number;
  /** 1 on one machine; 3 on a JetStream cluster (ARCHITECTURE §7). */
  readonly replicas?: number;
}

export const DEFAULT_DUPLICATE_WINDOW_MS = 10 * 60_000;

// Event types may be dotted ("Key.Created"): each part becomes a subject token, so none may be empty or
// a wildcard. Service names are checked by assertServiceName (they also name the schema).
const SUBJECT_TOKENS = /^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/;

export const isSubjectTokens = (s: string): boolean => SUBJECT_TOKENS.test(s);

export function eventStreamName(service: string): string {
  assertServiceName(service);
  return `EKM_${service.toUpperCase()}_EVENTS`;
}

export function eventSubjectPrefix(service: string): string {
  assertServiceName(service);
  return `ekm.events.${service}`;
}

/** `ekm.events.<service>.<EventType>`; throws for an event type that is not a single subject token. */
export function eventSubject(service: string, eventType: string): string {
  if (!isSubjectTokens(eventType)) {
    throw new TypeError(`event type "${eventType}" cannot form subject tokens: use letters, digits, "_", "-" and single dots`);
  }
  return `${eventSubjectPrefix(service)}.${eventType}`;
}

export function eventStreamSpec(service: string, opts: EventStreamOptions = {}): StreamSpec {
  return {
    name: eventStreamName(service),
    subjects: [`${eventSubjectPrefix(service)}.>`],
    retention: RetentionPolicy.Limits,
    storage: StorageType.File,
    maxAgeMs: opts.maxAgeMs ?? 0,
    maxBytes: opts.maxBytes ?? -1,
    duplicateWindowMs: opts.duplicateWindowMs ?? DEFAULT_DUPLICATE_WINDOW_MS,
    replicas: opts.replicas ?? 1,
    discard: DiscardPolicy.Old,
  };
}
