/**
 * Re-wrapping after a rotation: the envelope's wrapped data key is re-encrypted inside EKM
 * (ReEncrypt: the DEK never leaves the service) under the destination key's current primary version,
 * and the envelope is rebuilt around the new blob. Payload, IV and tag stay as they are, since the
 * wrapped key is not part of the payload's AAD. The old blob is not kept anywhere.
 */
import { BusErrorCode, isBusErrorCode } from '@ekm/contracts';
import type { CryptoClient } from '../crypto.client';
import { EkmError } from '../ekm-error';
import type { KeyRef } from '../crypto.types';
import { EnvelopeInvalidError } from './envelope.errors';
import { encodeEnvelope, parseEnvelope } from './envelope.format';
import { vectorEncryptionContext, wrappedKeyErrors, type VectorContext } from './vector-envelope';

/** Input of {@link rewrapEnvelope} and {@link rewrapEnvelopes}. */
export interface RewrapInput {
  readonly envelope: Uint8Array;
  readonly context: VectorContext;
  /** Default: the key that wrapped it (its current primary version). */
  readonly destinationKeyId?: KeyRef;
}

/** A re-wrapped envelope and the key versions before and after. */
export interface Rewrapped {
  readonly envelope: Buffer;
  readonly keyId: string;
  readonly keyVersion: number;
  readonly sourceKeyId: string;
  readonly sourceKeyVersion: number;
}

/** One item of {@link rewrapEnvelopes}: each envelope succeeds or fails on its own. */
export type RewrapResult = { readonly ok: true; readonly value: Rewrapped } | { readonly ok: false; readonly error: Error };

/**
 * Re-wraps one envelope's data key. Errors: EnvelopeInvalidError (malformed; `WRAPPED_KEY_REJECTED`
 * when EKM finds the wrapped key invalid), EkmError (`EKM_KEY_NOT_ACTIVE`, `EKM_FORBIDDEN`, ...).
 */
export async function rewrapEnvelope(crypto: Pick<CryptoClient, 'reEncrypt'>, input: RewrapInput): Promise<Rewrapped> {
  const ctx = vectorEncryptionContext(input.context);
  const parts = parseEnvelope(input.envelope);
  const r = await wrappedKeyErrors(() => crypto.reEncrypt({
    ciphertextBlob: parts.wrappedKey,
    sourceEncryptionContext: ctx,
    destinationEncryptionContext: ctx,
    ...(input.destinationKeyId !== undefined ? { destinationKeyId: input.destinationKeyId } : {}),
  }));
  return {
    envelope: encodeEnvelope({ ...parts, wrappedKey: r.ciphertextBlob }),
    keyId: r.keyId, keyVersion: r.keyVersion, sourceKeyId: r.sourceKeyId, sourceKeyVersion: r.sourceKeyVersion,
  };
}

/** Batch re-wrap: ReEncryptBatch in chunks of 100; results in input order, each ok or failed on its own. */
export async function rewrapEnvelopes(crypto: Pick<CryptoClient, 'reEncryptBatch'>, inputs: readonly RewrapInput[]): Promise<RewrapResult[]> {
  const out: RewrapResult[] = [];
  for (let i = 0; i < inputs.length; i += 100) {
    const chunk = inputs.slice(i, i + 100);
    const parsed = chunk.map((input) => {
      try {
        return { ok: true as const, ctx: vectorEncryptionContext(input.context), parts: parseEnvelope(input.envelope), input };
      } catch (error) {
        return { ok: false as const, error: error as Error };
      }
    });
    const valid = parsed.filter((p) => p.ok);
    const replies = valid.length === 0 ? [] : await crypto.reEncryptBatch(valid.map((p) => ({
      ciphertextBlob: p.parts.wrappedKey,
      sourceEncryptionContext: p.ctx,
      destinationEncryptionContext: p.ctx,
      ...(p.input.destinationKeyId !== undefined ? { destinationKeyId: p.input.destinationKeyId } : {}),
    })));
    let at = 0;
    for (const p of parsed) {
      if (!p.ok) {
        out.push({ ok: false, error: p.error });
        continue;
      }
      const r = replies[at++]!;
      if (!r.ok) {
        const { code, message } = r.error;
        const ekm = new EkmError({ code: isBusErrorCode(code) ? code : BusErrorCode.Internal, message });
        const err = ekm.code === BusErrorCode.InvalidCiphertext ? new EnvelopeInvalidError('WRAPPED_KEY_REJECTED', { cause: ekm }) : ekm;
        out.push({ ok: false, error: err });
        continue;
      }
      const v = r.value;
      out.push({ ok: true, value: { envelope: encodeEnvelope({ ...p.parts, wrappedKey: v.ciphertextBlob }), keyId: v.keyId, keyVersion: v.keyVersion, sourceKeyId: v.sourceKeyId, sourceKeyVersion: v.sourceKeyVersion } });
    }
  }
  return out;
}
