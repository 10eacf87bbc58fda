/**
 * Plaintext bytes (a DEK, decrypted data) on their way into a reply. The transport serializes replies
 * with JSON.stringify: `toJSON()` yields the base64 form once and zero-fills the buffer in the same
 * step, so the bytes live exactly until the reply is serialized. A reply that is never serialized
 * (the caller gave no reply subject, or the call failed later) is zeroed by `dispose()` or, at the
 * latest, by a short timer. util.inspect and String() print a redaction.
 */
import type { KeyMaterial } from '@ekm/crypto';

const REDACTED = '[SecretBytes redacted]';
/** Upper bound on how long unserialized plaintext may stay in memory. */
const FALLBACK_ZERO_MS = 2000;

export class SecretBytes {
  #bytes: Buffer | null;
  #material: KeyMaterial | null;

  private constructor(bytes: Buffer | null, material: KeyMaterial | null) {
    this.#bytes = bytes;
    this.#material = material;
    setTimeout(() => this.dispose(), FALLBACK_ZERO_MS).unref();
  }

  /** Takes ownership of `bytes` (zeroed on serialization or dispose). */
  static adopt(bytes: Buffer): SecretBytes {
    return new SecretBytes(bytes, null);
  }

  /** Takes ownership of `material` (disposed on serialization or dispose). */
  static ofMaterial(material: KeyMaterial): SecretBytes {
    return new SecretBytes(null, material);
  }

  get isDisposed(): boolean {
    return this.#bytes === null && this.#material === null;
  }

  /** Base64, then zero. A second serialization is a bug: it throws rather than send zeros. */
  toJSON(): string {
    if (this.isDisposed) throw new Error('SecretBytes serialized twice or after dispose()');
    const b64 = this.#material ? this.#material.use((b) => b.toString('base64')) : this.#bytes!.toString('base64');
    this.dispose();
    return b64;
  }

  dispose(): void {
    this.#bytes?.fill(0);
    this.#bytes = null;
    this.#material?.dispose();
    this.#material = null;
  }

  toString(): string {
    return REDACTED;
  }

  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return REDACTED;
  }
}

/** Disposes every SecretBytes found among the (shallow) values of `obj`. */
export function disposeSecrets(obj: unknown): void {
  if (typeof obj !== 'object' || obj === null) return;
  for (const v of Object.values(obj)) if (v instanceof SecretBytes) v.dispose();
}
