import { randomBytes, randomUUID } from 'node:crypto';
import { mkdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { createExclusive } from '@ekm/config';
import { RootConfigInvalidError, RootKeyUnavailableError } from '../errors';
import { kwpUnwrap, kwpWrap } from '../envelope/aes-kwp';
import { KeyMaterial } from '../key-material';
import { KEK_LENGTH, type RootOfTrust, type RootOfTrustDescription } from '../root-of-trust.port';
import { SoftwareEpochKeys } from './software-epoch-keys';
import { DEFAULT_SCRYPT, sealRootKey, unsealRootKey, type ScryptParams } from './sealed-root-file';

export type SoftwareRootOptions = {
  /** EKM_DATA_DIR. Created (0700) if missing. */
  dataDir: string;
  /** EKM_ROOT_SECRET, at least 16 characters. Required when env is 'production'. */
  secret?: string;
  env: 'development' | 'production';
  /** Only for new files (tests lower N); an existing file's stored parameters always win. */
  scrypt?: ScryptParams;
};

export const SEALED_ROOT_FILE = 'root-key.sealed';
export const DEV_SECRET_FILE = 'root-secret';
const MIN_SECRET_LENGTH = 16;

/**
 * Development / single-machine root of trust: a 32-byte AES root key sealed in
 * `<dataDir>/root-key.sealed` (0600) with AES-256-GCM under scrypt(EKM_ROOT_SECRET).
 *
 * Without EKM_ROOT_SECRET, and only when env is 'development', a random secret is generated once into
 * `<dataDir>/root-secret` (0600). Anyone who can read the data dir can then open the root key: that is
 * acceptable for a laptop, never for production (which refuses to start without a secret).
 * Files with a mode looser than 0600 are refused, as ssh does with private keys.
 */
export class SoftwareRootOfTrust implements RootOfTrust {
  #rootKey: Buffer | null;
  readonly epochs: SoftwareEpochKeys;

  private constructor(rootKey: Buffer, private readonly rootKeyId: string, private readonly sealedFile: string, dataDir: string) {
    this.#rootKey = rootKey;
    this.epochs = new SoftwareEpochKeys(dataDir, () => this.root());
  }

  static open(options: SoftwareRootOptions): SoftwareRootOfTrust {
    const { dataDir, env } = options;
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    const secret = options.secret ?? devSecret(dataDir, env);
    if (secret.length < MIN_SECRET_LENGTH) throw new RootConfigInvalidError(`EKM_ROOT_SECRET must be at least ${MIN_SECRET_LENGTH} characters`);
    const path = join(dataDir, SEALED_ROOT_FILE);
    if (!exists(path)) {
      const rootKey = randomBytes(KEK_LENGTH);
      try {
        createExclusive(path, sealRootKey(rootKey, secret, randomUUID(), options.scrypt ?? DEFAULT_SCRYPT));
      } finally {
        rootKey.fill(0); // read back below, so a concurrent first start converges on the file that won
      }
    }
    const { rootKey, rootKeyId } = unsealRootKey(readPrivateFile(path), secret, path);
    return new SoftwareRootOfTrust(rootKey, rootKeyId, path, dataDir);
  }

  async wrapKey(material: KeyMaterial): Promise<Buffer> {
    const root = this.root();
    return material.use((bytes) => kwpWrap(root, bytes));
  }

  async unwrapKey(wrapped: Buffer): Promise<KeyMaterial> {
    return KeyMaterial.adopt(kwpUnwrap(this.root(), wrapped));
  }

  async generateKek(): Promise<{ material: KeyMaterial; wrapped: Buffer }> {
    const material = KeyMaterial.random(KEK_LENGTH);
    return { material, wrapped: await this.wrapKey(material) };
  }

  async health(): Promise<void> {
    this.root();
  }

  describe(): RootOfTrustDescription {
    return { kind: 'software', rootKeyId: this.rootKeyId, sealedFile: this.sealedFile };
  }

  async close(): Promise<void> {
    this.epochs.close();
    this.#rootKey?.fill(0);
    this.#rootKey = null;
  }

  private root(): Buffer {
    if (this.#rootKey === null) throw new RootKeyUnavailableError('software root of trust is closed');
    return this.#rootKey;
  }
}

function devSecret(dataDir: string, env: SoftwareRootOptions['env']): string {
  if (env !== 'development') throw new RootConfigInvalidError('EKM_ROOT_SECRET is required outside development');
  const path = join(dataDir, DEV_SECRET_FILE);
  if (!exists(path)) createExclusive(path, `${randomBytes(32).toString('base64url')}\n`);
  return readPrivateFile(path).trim();
}

function exists(path: string): boolean {
  try {
    statSync(path);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw new RootConfigInvalidError(`cannot stat ${path}: ${(e as NodeJS.ErrnoException).code}`);
  }
}

function readPrivateFile(path: string): string {
  const mode = statSync(path).mode & 0o777;
  if ((mode & 0o077) !== 0) {
    throw new RootConfigInvalidError(`${path} has mode 0${mode.toString(8)}; it must be 0600 (run: chmod 600 ${path})`);
  }
  return readFileSync(path, 'utf8');
}
