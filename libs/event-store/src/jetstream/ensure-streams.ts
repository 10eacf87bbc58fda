/**
 * Creates missing streams and reports drift on existing ones WITHOUT updating them: changing a live
 * stream (subjects, retention, storage) can drop or re-route messages, so that stays an operator's act.
 */
import { JetStreamApiCodes, JetStreamApiError, type JetStreamManager, type StreamConfig, type StreamInfo } from '@nats-io/jetstream';
import { millis, nanos } from '@nats-io/transport-node';
import type { StreamSpec } from './event-streams';

export type StreamSpecField = Exclude<keyof StreamSpec, 'name'>;

/** One setting that differs; values are in the spec's units (ms for times, subjects sorted). */
export interface StreamDrift {
  readonly field: StreamSpecField;
  readonly expected: unknown;
  readonly actual: unknown;
}

export type StreamCheck =
  | { readonly stream: string; readonly outcome: 'created' }
  | { readonly stream: string; readonly outcome: 'unchanged' }
  | { readonly stream: string; readonly outcome: 'drifted'; readonly drift: readonly StreamDrift[] };

export interface EnsureStreamsResult {
  /** False when any stream drifted. */
  readonly ok: boolean;
  readonly streams: readonly StreamCheck[];
}

export async function ensureStreams(jsm: JetStreamManager, specs: readonly StreamSpec[]): Promise<EnsureStreamsResult> {
  const streams: StreamCheck[] = [];
  for (const spec of specs) {
    let info = await streamInfoOrNull(jsm, spec.name);
    if (info === null) {
      if (await createStream(jsm, spec)) {
        streams.push({ stream: spec.name, outcome: 'created' });
        continue;
      }
      info = await jsm.streams.info(spec.name);
    }
    const drift = diffStream(spec, info.config);
    streams.push(drift.length === 0 ? { stream: spec.name, outcome: 'unchanged' } : { stream: spec.name, outcome: 'drifted', drift });
  }
  return { ok: streams.every((s) => s.outcome !== 'drifted'), streams };
}

/** Pure comparison of a spec with a live stream config. */
export function diffStream(spec: StreamSpec, config: Pick<StreamConfig, 'subjects' | 'retention' | 'storage' | 'max_age' | 'max_bytes' | 'duplicate_window' | 'num_replicas' | 'discard'>): StreamDrift[] {
  const actual: Record<StreamSpecField, unknown> = {
    subjects: [...(config.subjects ?? [])].sort(),
    retention: config.retention,
    storage: config.storage,
    maxAgeMs: millis(config.max_age ?? 0),
    maxBytes: config.max_bytes ?? -1,
    duplicateWindowMs: millis(config.duplicate_window ?? 0),
    replicas: config.num_replicas ?? 1,
    discard: config.discard ?? 'old',
  };
  const expected: Record<StreamSpecField, unknown> = { ...spec, subjects: [...spec.subjects].sort() };
  const fields = Object.keys(actual) as StreamSpecField[];
  return fields
    .filter((f) => JSON.stringify(expected[f]) !== JSON.stringify(actual[f]))
    .map((field) => ({ field, expected: expected[field], actual: actual[field] }));
}

export function toStreamConfig(spec: StreamSpec): Partial<StreamConfig> & { name: string } {
  return {
    name: spec.name,
    subjects: [...spec.subjects],
    retention: spec.retention,
    storage: spec.storage,
    max_age: nanos(spec.maxAgeMs),
    max_bytes: spec.maxBytes,
    duplicate_window: nanos(spec.duplicateWindowMs),
    num_replicas: spec.replicas,
    discard: spec.discard,
  };
}

async function streamInfoOrNull(jsm: JetStreamManager, name: string): Promise<StreamInfo | null> {
  try {
    return await jsm.streams.info(name);
  } catch (err) {
    if (err instanceof JetStreamApiError && err.code === JetStreamApiCodes.StreamNotFound) return null;
    throw err;
  }
}

const STREAM_NAME_IN_USE = 10058;

/** False when another replica created it first with another config (we then report its drift). */
async function createStream(jsm: JetStreamManager, spec: StreamSpec): Promise<boolean> {
  try {
    await jsm.streams.add(toStreamConfig(spec));
    return true;
  } catch (err) {
    if (err instanceof JetStreamApiError && err.code === STREAM_NAME_IN_USE) return false;
    throw err;
  }
}
