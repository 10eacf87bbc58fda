import { randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { EpochKeyDestroyedError, RootConfigInvalidError, UnwrapFailedError } from '../errors';
import { kwpUnwrap, kwpWrap } from '../envelope/aes-kwp';
import { KeyMaterial } from '../key-material';
import { KEK_LENGTH } from '../root-of-trust.port';
import { EPOCH_ID_PATTERN, epochCreatedAt, newEpochId, type EpochKeyInfo, type EpochKeyStore } from '../epochs/epoch-keys.port';

export const EPOCH_DIR = 'epochs';
const SUFFIX = '.epoch';
const FORMAT = 'ekm-epoch-key/v1';

/**
 * Epoch keys of the software root: `<dataDir>/epochs/<id>.epoch` (0600), each a random AES-256 key
 * wrapped (AES-KWP) under the sealed root key. Destroy overwrites the file with random bytes, fsyncs,
 * unlinks it and fsyncs the directory.
 *
 * What that can promise: a database backup taken before the destroy holds nothing this data dir can
 * open for the destroyed material. What it cannot: a copy of the data dir taken before the destroy
 * (with EKM_ROOT_SECRET) still opens it; and on copy-on-write or journaling file systems and SSDs the
 * overwrite may leave the old blocks on the medium. A backup of the data dir is key material.
 *
 * Every use re-reads the file's presence (a stat, paid only on KEK cache misses), so a replica that
 * shares the data dir stops using an epoch key as soon as another replica destroyed it.
 */
export class SoftwareEpochKeys implements EpochKeyStore {
  private readonly dir: string;
  private readonly cache = new Map<string, Buffer>();

  constructor(dataDir: string, private readonly rootKey: () => Buffer, private readonly now: () => number = Date.now) {
    this.dir = join(dataDir, EPOCH_DIR);
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
  }

  async list(): Promise<EpochKeyInfo[]> {
    return readdirSync(this.dir)
      .filter((f) => f.endsWith(SUFFIX) && EPOCH_ID_PATTERN.test(f.slice(0, -SUFFIX.length)))
      .map((f) => f.slice(0, -SUFFIX.length))
      .sort()
      .map((id) => ({ id, createdAt: epochCreatedAt(id) }));
  }

  async create(): Promise<EpochKeyInfo> {
    const existing = await this.list();
    let nowMs = this.now();
    const last = existing.at(-1);
    if (last && Number(last.id.slice(1, 15)) >= nowMs) nowMs = Number(last.id.slice(1, 15)) + 1; // ids stay ordered under clock steps
    const id = newEpochId(nowMs, randomBytes(4).toString('hex'));
    const key = randomBytes(KEK_LENGTH);
    try {
      const body = JSON.stringify({ format: FORMAT, id, wrapped: kwpWrap(this.rootKey(), key).toString('base64') });
      writeDurably(this.path(id), `${body}\n`);
    } finally {
      key.fill(0);
    }
    return { id, createdAt: epochCreatedAt(id) };
  }

  async destroy(id: string): Promise<void> {
    this.forget(id);
    const path = this.path(id);
    let size: number;
    try {
      size = statSync(path).size;
    } catch {
      return;
    }
    const fd = openSync(path, 'r+');
    try {
      writeSync(fd, randomBytes(Math.max(size, 64)), 0, Math.max(size, 64), 0);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    unlinkSync(path);
    fsyncDir(this.dir);
  }

  async wrap(id: string, material: KeyMaterial): Promise<Buffer> {
    const key = this.key(id);
    return material.use((bytes) => kwpWrap(key, bytes));
  }

  async unwrap(id: string, wrapped: Buffer): Promise<KeyMaterial> {
    const key = this.key(id);
    try {
      return KeyMaterial.adopt(kwpUnwrap(key, wrapped));
    } catch {
      throw new UnwrapFailedError();
    }
  }

  async generateKek(id: string): Promise<{ material: KeyMaterial; wrapped: Buffer }> {
    const material = KeyMaterial.random(KEK_LENGTH);
    return { material, wrapped: await this.wrap(id, material) };
  }

  /** Zeroes every cached epoch key (the root closed). */
  close(): void {
    for (const id of [...this.cache.keys()]) this.forget(id);
  }

  private forget(id: string): void {
    this.cache.get(id)?.fill(0);
    this.cache.delete(id);
  }

  private key(id: string): Buffer {
    if (!EPOCH_ID_PATTERN.test(id)) throw new EpochKeyDestroyedError(id);
    const path = this.path(id);
    let text: string;
    try {
      const st = statSync(path);
      if ((st.mode & 0o077) !== 0) throw new RootConfigInvalidError(`${path} has mode 0${(st.mode & 0o777).toString(8)}; it must be 0600`);
      const cached = this.cache.get(id);
      if (cached) return cached;
      text = readFileSync(path, 'utf8');
    } catch (e) {
      if (e instanceof RootConfigInvalidError) throw e;
      this.forget(id);
      throw new EpochKeyDestroyedError(id);
    }
    let parsed: { format?: unknown; id?: unknown; wrapped?: unknown };
    try {
      parsed = JSON.parse(text) as typeof parsed;
    } catch {
      throw new RootConfigInvalidError(`epoch key file ${path} is malformed`);
    }
    if (parsed.format !== FORMAT || parsed.id !== id || typeof parsed.wrapped !== 'string') throw new RootConfigInvalidError(`epoch key file ${path} is malformed`);
    let key: Buffer;
    try {
      key = kwpUnwrap(this.rootKey(), Buffer.from(parsed.wrapped, 'base64'));
    } catch {
      throw new RootConfigInvalidError(`epoch key file ${path} does not open under this root key`);
    }
    this.cache.set(id, key);
    return key;
  }

  private path(id: string): string {
    return join(this.dir, `${id}${SUFFIX}`);
  }
}

/** tmp (0600) + fsync + rename + directory fsync: the epoch key exists completely or not at all. */
export function writeDurably(path: string, text: string): void {
  const tmp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  const fd = openSync(tmp, 'wx', 0o600);
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
  fsyncDir(join(path, '..'));
}

function fsyncDir(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
