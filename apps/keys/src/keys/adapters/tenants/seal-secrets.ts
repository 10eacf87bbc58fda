/**
 * SEAL_SECRETS: the verifier of a tenant-held unseal secret is
 * HMAC-SHA256(pepper, tenant ‖ seal position ‖ scrypt(secret, salt)) with a random 16-byte salt. scrypt
 * makes each guess cost (N=2^15, r=8: ~32 MiB and tens of ms, paid only at seal and unseal); the pepper,
 * derived from the service's auth secret and never stored in the database, means a copy of the verifier
 * table gives nobody an offline guessing target; tenant and position bind a row to its seal. The secret
 * itself is never stored, logged or put in an event.
 */
import { createHmac, randomBytes, scrypt, timingSafeEqual } from 'node:crypto';
import type { UnsealSecretCheck } from '../../domain/tenant-seal';
import type { SealSecrets, SealVerifier } from '../../application/tenants/tenant-seal.ports';

const SCRYPT = { N: 1 << 15, r: 8, p: 1, maxmem: 64 * 1024 * 1024 } as const;

function scryptOf(secret: string, salt: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => scrypt(secret.normalize('NFC'), salt, 32, SCRYPT, (err, key) => (err ? reject(err) : resolve(key))));
}

export class ScryptSealSecrets implements SealSecrets {
  constructor(private readonly pepper: Buffer) {}

  async verifierOf(tenant: string, sealPosition: number, secret: string): Promise<SealVerifier> {
    const salt = randomBytes(16);
    return { scheme: 'scrypt-hmac-v1', salt: salt.toString('base64url'), hash: (await this.hash(tenant, sealPosition, secret, salt)).toString('base64url') };
  }

  async check(tenant: string, sealPosition: number, verifier: SealVerifier | null, secret: string | undefined): Promise<UnsealSecretCheck> {
    if (secret === undefined) return 'absent';
    if (verifier === null) return 'differs';
    const expected = Buffer.from(verifier.hash, 'base64url');
    const got = await this.hash(tenant, sealPosition, secret, Buffer.from(verifier.salt, 'base64url'));
    return expected.length === got.length && timingSafeEqual(expected, got) ? 'matches' : 'differs';
  }

  private async hash(tenant: string, sealPosition: number, secret: string, salt: Buffer): Promise<Buffer> {
    const stretched = await scryptOf(secret, salt);
    try {
      return createHmac('sha256', this.pepper).update(`${tenant}\u0000${sealPosition}\u0000`).update(stretched).digest();
    } finally {
      stretched.fill(0);
    }
  }
}
