import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { InvalidKeyLengthError, KeyMaterialDisposedError } from './errors';

const REDACTED = '[KeyMaterial redacted]';
const FINGERPRINT_DOMAIN = Buffer.from('ekm/key-fingerprint/v1\0', 'utf8');

/**
 * Secret bytes with a type (STYLE.md "Secrets have a type"). The bytes sit in a private field, so
 * JSON.stringify yields `{}`, util.inspect / String() / template strings print a redaction, and
 * structuredClone copies nothing. Read them only inside `use()`; `dispose()` zero-fills.
 */
export class KeyMaterial {
  #bytes: Buffer | null;

  private constructor(bytes: Buffer) {
    this.#bytes = bytes;
  }

  /** Takes ownership of `bytes` (no copy): the caller must not keep or reuse the buffer. */
  static adopt(bytes: Buffer): KeyMaterial {
    if (bytes.length === 0) throw new InvalidKeyLengthError('key material must not be empty');
    return new KeyMaterial(bytes);
  }

  /** Copies `bytes`; the caller still owns (and should zero) its own buffer. */
  static copyOf(bytes: Uint8Array): KeyMaterial {
    return KeyMaterial.adopt(Buffer.from(bytes));
  }

  /** Fresh random material from the OS CSPRNG. */
  static random(length: number): KeyMaterial {
    if (!Number.isInteger(length) || length < 1) throw new InvalidKeyLengthError(`cannot generate ${length} bytes of key material`);
    return new KeyMaterial(randomBytes(length));
  }

  get length(): number {
    return this.bytes().length;
  }

  get isDisposed(): boolean {
    return this.#bytes === null;
  }

  /** Lends the bytes to `fn`. Do not keep a reference past the call: dispose() zeroes them in place. */
  use<T>(fn: (bytes: Buffer) => T): T {
    return fn(this.bytes());
  }

  /** Constant-time comparison (for tests and self-checks). */
  equals(other: KeyMaterial): boolean {
    const a = this.bytes();
    const b = other.bytes();
    return a.length === b.length && timingSafeEqual(a, b);
  }

  /** Zero-fills and forgets the bytes. Idempotent. */
  dispose(): void {
    this.#bytes?.fill(0);
    this.#bytes = null;
  }

  toString(): string {
    return REDACTED;
  }

  [Symbol.toPrimitive](): string {
    return REDACTED;
  }

  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return REDACTED;
  }

  private bytes(): Buffer {
    if (this.#bytes === null) throw new KeyMaterialDisposedError();
    return this.#bytes;
  }
}

/**
 * A log-safe identifier for material: hex of the first 8 bytes of SHA-256(domain || material).
 * 64 bits cannot be inverted to a 256-bit key; the domain prefix keeps it distinct from any other
 * hash of the same bytes. Use it in KeyInfo, logs and audit records instead of the material.
 */
export function keyFingerprint(material: KeyMaterial): string {
  return material.use((bytes) => createHash('sha256').update(FINGERPRINT_DOMAIN).update(bytes).digest().subarray(0, 8).toString('hex'));
}
