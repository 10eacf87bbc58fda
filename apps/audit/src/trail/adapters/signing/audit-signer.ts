/**
 * The trail's Ed25519 signing key: generated once (first replica wins, ON CONFLICT), stored only
 * wrapped under the root of trust (the 32-byte seed, RFC 5649 KWP like a KEK), unwrapped at start.
 * The stored public key is checked against the one derived from the unwrapped seed, so a row swapped
 * for another key pair (by someone without the root) is refused instead of trusted.
 */
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify, type KeyObject } from 'node:crypto';
import type { Pool } from 'pg';
import { KeyMaterial, type RootOfTrust } from '@ekm/crypto';

const PKCS8_ED25519_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');
const SPKI_ED25519_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

export class SigningKeyMismatchError extends Error {
  override readonly name = 'SigningKeyMismatchError';
  constructor() {
    super('the stored audit signing public key does not match the wrapped private key; refusing to sign or verify');
  }
}

/** Public half only: verifies checkpoints and reports (also usable offline, from `publicKey`). */
export class AuditVerifier {
  constructor(readonly publicKeyRaw: Buffer) {}

  get keyId(): string {
    return createHash('sha256').update(this.publicKeyRaw).digest('hex').slice(0, 16);
  }

  protected get publicKey(): KeyObject {
    return createPublicKey({ key: Buffer.concat([SPKI_ED25519_PREFIX, this.publicKeyRaw]), format: 'der', type: 'spki' });
  }

  verify(payload: string | Buffer, signature: Buffer): boolean {
    try {
      return verify(null, typeof payload === 'string' ? Buffer.from(payload, 'utf8') : payload, this.publicKey, signature);
    } catch {
      return false;
    }
  }
}

export class AuditSigner extends AuditVerifier {
  readonly #privateKey: KeyObject;
  readonly #publicKey: KeyObject;

  private constructor(privateKey: KeyObject, publicKeyRaw: Buffer) {
    super(publicKeyRaw);
    this.#privateKey = privateKey;
    this.#publicKey = createPublicKey(privateKey);
  }

  protected override get publicKey(): KeyObject {
    return this.#publicKey;
  }

  sign(payload: string | Buffer): Buffer {
    return sign(null, typeof payload === 'string' ? Buffer.from(payload, 'utf8') : payload, this.#privateKey);
  }

  /** Loads the key from `ekm_audit.signing_key`, generating and wrapping it on first use. */
  static async load(pool: Pool, root: RootOfTrust, schema = 'ekm_audit'): Promise<AuditSigner> {
    let row = await readRow(pool, schema);
    if (!row) {
      const { privateKey, publicKey } = generateKeyPairSync('ed25519');
      const seed = privateKey.export({ format: 'der', type: 'pkcs8' }).subarray(PKCS8_ED25519_PREFIX.length);
      const material = KeyMaterial.copyOf(seed);
      seed.fill(0);
      let wrapped: Buffer;
      try {
        wrapped = await root.wrapKey(material);
      } finally {
        material.dispose();
      }
      const pub = publicKey.export({ format: 'der', type: 'spki' }).subarray(SPKI_ED25519_PREFIX.length);
      const keyId = createHash('sha256').update(pub).digest('hex').slice(0, 16);
      await pool.query(`INSERT INTO ${schema}.signing_key (id, key_id, public_key, wrapped_private) VALUES (1, $1, $2, $3) ON CONFLICT (id) DO NOTHING`, [keyId, pub, wrapped]);
      row = await readRow(pool, schema);
      if (!row) throw new Error('audit signing key row vanished after insert');
    }
    const material = await root.unwrapKey(row.wrapped_private);
    try {
      const privateKey = material.use((seed) => {
        const der = Buffer.concat([PKCS8_ED25519_PREFIX, seed]);
        try {
          return createPrivateKey({ key: der, format: 'der', type: 'pkcs8' });
        } finally {
          der.fill(0);
        }
      });
      const derived = createPublicKey(privateKey).export({ format: 'der', type: 'spki' }).subarray(SPKI_ED25519_PREFIX.length);
      if (!derived.equals(row.public_key)) throw new SigningKeyMismatchError();
      return new AuditSigner(privateKey, Buffer.from(derived));
    } finally {
      material.dispose();
    }
  }
}

async function readRow(pool: Pool, schema: string): Promise<{ public_key: Buffer; wrapped_private: Buffer } | undefined> {
  const { rows } = await pool.query<{ public_key: Buffer; wrapped_private: Buffer }>(`SELECT public_key, wrapped_private FROM ${schema}.signing_key WHERE id = 1`);
  return rows[0];
}
