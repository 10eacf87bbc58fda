/** Why an envelope was refused. Structural reasons name public layout facts only; every cryptographic failure is one reason (no oracle). */
export type EnvelopeProblem =
  | 'TRUNCATED'
  | 'BAD_MAGIC'
  | 'UNSUPPORTED_VERSION'
  | 'UNKNOWN_CONTENT_TYPE'
  | 'WRONG_CONTENT_TYPE'
  | 'BAD_WRAPPED_KEY_LENGTH'
  | 'AUTHENTICATION_FAILED'
  | 'WRAPPED_KEY_REJECTED'
  | 'BAD_PAYLOAD';

const MESSAGES: Readonly<Record<EnvelopeProblem, string>> = {
  TRUNCATED: 'envelope is shorter than its header and tag',
  BAD_MAGIC: 'not an EKM vector envelope (magic bytes differ)',
  UNSUPPORTED_VERSION: 'envelope format version is not supported by this SDK',
  UNKNOWN_CONTENT_TYPE: 'envelope content type is unknown',
  WRONG_CONTENT_TYPE: 'envelope holds another content type than the one asked for',
  BAD_WRAPPED_KEY_LENGTH: 'wrapped data key length does not fit the envelope',
  AUTHENTICATION_FAILED: 'envelope failed authentication (tampered, or another tenant/collection/asset)',
  WRAPPED_KEY_REJECTED: 'EKM refused the wrapped data key as invalid ciphertext (tampered, or another context)',
  BAD_PAYLOAD: 'decrypted payload is not a valid vector or JSON document',
};

/**
 * A malformed, tampered or misplaced vector envelope. `problem` says which rule failed; the message
 * never contains envelope bytes, keys or plaintext. A rejection by EKM of the wrapped key as invalid
 * ciphertext is one of these too (`WRAPPED_KEY_REJECTED`, the EkmError as `cause`); EKM's other
 * refusals (key not active, forbidden, unavailable...) stay `EkmError`s.
 */
export class EnvelopeInvalidError extends Error {
  override readonly name = 'EnvelopeInvalidError';
  readonly code = 'ENVELOPE_INVALID';
  constructor(readonly problem: EnvelopeProblem, options?: { cause?: unknown }) {
    super(MESSAGES[problem], options);
  }
}

/** An argument (context, vector, metadata) is unusable; nothing was encrypted. */
export class VectorInputInvalidError extends Error {
  override readonly name = 'VectorInputInvalidError';
  readonly code = 'VECTOR_INPUT_INVALID';
  constructor(readonly field: string, rule: string) {
    super(`${field} ${rule}`);
  }
}
