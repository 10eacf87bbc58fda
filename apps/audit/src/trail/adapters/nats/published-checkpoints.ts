/**
 * The checkpoints published on EKM_AUDIT (`ekm.audit.v1.checkpoint`): the copy of the trail's
 * signatures that lives outside Postgres. Verify and the signer's anchor trust these over database
 * rows. Every message is checked here with the service's own public key; one that is not a checkpoint
 * this key signed (a forged or garbled message) is counted and ignored, never trusted and never fatal.
 */
import { JetStreamApiCodes, JetStreamApiError, type JetStreamClient, type JetStreamManager } from '@nats-io/jetstream';
import { parseCheckpointPayload } from '../../application/hash-chain';
import type { AuditVerifier } from '../signing/audit-signer';
import type { CheckpointAnchor, SignedCheckpoint } from '../postgres/chain-guard';
import { AUDIT_STREAM, CHECKPOINT_SUBJECT } from './siem-relay';

export interface PublishedCheckpoints {
  /** Valid checkpoints, ascending by tree size (one per size). */
  readonly checkpoints: readonly SignedCheckpoint[];
  /** Messages on the subject that are not a checkpoint signed by this service's key. */
  readonly rejected: number;
}

/** Parses one message body into a checkpoint signed by `verifier`, or null. */
export function parsePublishedCheckpoint(body: unknown, verifier: AuditVerifier): SignedCheckpoint | null {
  const c = body as { treeSize?: unknown; root?: unknown; payload?: unknown; signature?: unknown };
  if (typeof c !== 'object' || c === null) return null;
  if (!Number.isSafeInteger(c.treeSize) || typeof c.root !== 'string' || !/^[0-9a-f]{64}$/.test(c.root)) return null;
  if (typeof c.payload !== 'string' || typeof c.signature !== 'string') return null;
  const p = parseCheckpointPayload(c.payload);
  if (!p || p.treeSize !== c.treeSize || p.root !== c.root) return null;
  const signature = Buffer.from(c.signature, 'base64');
  if (!verifier.verify(c.payload, signature)) return null;
  return { treeSize: c.treeSize as number, root: Buffer.from(c.root, 'hex'), payload: c.payload, signature };
}

/** Reads every message on the checkpoint subject (an ordered consumer, until nothing is pending). */
export async function readPublishedCheckpoints(js: JetStreamClient, verifier: AuditVerifier): Promise<PublishedCheckpoints> {
  let consumer;
  try {
    consumer = await js.consumers.get(AUDIT_STREAM, { filter_subjects: CHECKPOINT_SUBJECT });
  } catch (err) {
    if (err instanceof JetStreamApiError && err.code === JetStreamApiCodes.StreamNotFound) return { checkpoints: [], rejected: 0 };
    throw err;
  }
  const bySize = new Map<number, SignedCheckpoint>();
  let rejected = 0;
  let pending = (await consumer.info(true)).num_pending;
  while (pending > 0) {
    const batch = await consumer.fetch({ max_messages: Math.min(pending, 1000), expires: 5_000 });
    let got = 0;
    for await (const m of batch) {
      got++;
      pending = m.info.pending;
      let body: unknown;
      try {
        body = m.json<unknown>();
      } catch {
        body = null;
      }
      const cp = parsePublishedCheckpoint(body, verifier);
      if (cp) bySize.set(cp.treeSize, cp);
      else rejected++;
    }
    if (got === 0) throw new Error(`reading ${CHECKPOINT_SUBJECT}: no message within 5 s although ${pending} were pending`);
  }
  return { checkpoints: [...bySize.values()].sort((a, b) => a.treeSize - b.treeSize), rejected };
}

/**
 * The signer's anchor: the newest published checkpoint (see ChainGuard). The last message on the
 * subject is read first (one lookup); only if it is not a checkpoint this key signed (a forged
 * message) is the whole subject scanned.
 */
export function publishedAnchor(js: JetStreamClient, jsm: JetStreamManager, verifier: AuditVerifier): CheckpointAnchor {
  return {
    latest: async () => {
      try {
        const m = await jsm.streams.getMessage(AUDIT_STREAM, { last_by_subj: CHECKPOINT_SUBJECT });
        let body: unknown = null;
        try {
          body = m?.json<unknown>() ?? null;
        } catch { /* not JSON: scan below */ }
        const last = parsePublishedCheckpoint(body, verifier);
        if (last) return last;
        if (m === null) return null;
      } catch (err) {
        if (!(err instanceof JetStreamApiError)) throw err;
        // No stream or no message on the subject yet: nothing was ever published.
        if (err.code === JetStreamApiCodes.StreamNotFound || err.code === JetStreamApiCodes.NoMessageFound) return null;
        throw err;
      }
      const { checkpoints } = await readPublishedCheckpoints(js, verifier);
      return checkpoints.length > 0 ? checkpoints[checkpoints.length - 1] : null;
    },
  };
}
