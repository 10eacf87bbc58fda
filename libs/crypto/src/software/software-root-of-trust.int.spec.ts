import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RootConfigInvalidError, RootKeyUnavailableError, RootSecretMismatchError, UnwrapFailedError } from '../errors';
import { KeyMaterial } from '../key-material';
import { DEV_SECRET_FILE, SEALED_ROOT_FILE, SoftwareRootOfTrust } from './software-root-of-trust';

const scrypt = { N: 1 << 14, r: 8, p: 1 }; // the minimum the file parser accepts; keeps the suite fast
const secret = 'correct horse battery staple';
let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'ekm-softroot-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const open = (opts: Partial<Parameters<typeof SoftwareRootOfTrust.open>[0]> = {}) => SoftwareRootOfTrust.open({ dataDir: dir, secret, env: 'production', scrypt, ...opts });

describe('SoftwareRootOfTrust', () => {
  it('seals a new root key in a 0600 file and unseals the same key on the next start', async () => {
    const first = open();
    const path = join(dir, SEALED_ROOT_FILE);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    const { material, wrapped } = await first.generateKek();
    const second = open();
    expect(second.describe()).toEqual(first.describe());
    expect((await second.unwrapKey(wrapped)).equals(material)).toBe(true);
    const file = readFileSync(path, 'utf8');
    expect(JSON.parse(file)).toMatchObject({ format: 'ekm-sealed-root/v1', kdf: { name: 'scrypt', N: 1 << 14, r: 8, p: 1 } });
    expect(file).not.toContain(secret);
  });

  it('a wrong secret is RootSecretMismatchError that names the file, not the secret', () => {
    open();
    expect(() => open({ secret: 'a different secret, long enough' })).toThrow(RootSecretMismatchError);
    expect(() => open({ secret: 'a different secret, long enough' })).toThrow(/does not open the sealed root key/);
  });

  it('refuses a sealed file with a mode looser than 0600', () => {
    open();
    chmodSync(join(dir, SEALED_ROOT_FILE), 0o644);
    expect(() => open()).toThrow(RootConfigInvalidError);
    expect(() => open()).toThrow(/mode 0644; it must be 0600/);
  });

  it('an altered sealed file (parameters or ciphertext) does not open', () => {
    open();
    const path = join(dir, SEALED_ROOT_FILE);
    const f = JSON.parse(readFileSync(path, 'utf8'));
    writeFileSync(path, JSON.stringify({ ...f, rootKeyId: 'someone-else' }), { mode: 0o600 });
    expect(() => open()).toThrow(RootSecretMismatchError);
    writeFileSync(path, JSON.stringify({ ...f, kdf: { ...f.kdf, N: 1 << 30 } }), { mode: 0o600 });
    expect(() => open()).toThrow(/kdf parameters out of range/);
    writeFileSync(path, 'not json', { mode: 0o600 });
    expect(() => open()).toThrow(RootConfigInvalidError);
  });

  it('development without a secret generates a 0600 secret file; production refuses; short secrets refused', async () => {
    const dev = SoftwareRootOfTrust.open({ dataDir: dir, env: 'development', scrypt });
    expect(statSync(join(dir, DEV_SECRET_FILE)).mode & 0o777).toBe(0o600);
    const { material, wrapped } = await dev.generateKek();
    expect((await SoftwareRootOfTrust.open({ dataDir: dir, env: 'development' }).unwrapKey(wrapped)).equals(material)).toBe(true);
    expect(() => SoftwareRootOfTrust.open({ dataDir: dir, env: 'production' })).toThrow(/EKM_ROOT_SECRET is required/);
    expect(() => open({ secret: 'short' })).toThrow(/at least 16 characters/);
  });

  it('wrap/unwrap round trips any length; every bit flip and truncation of wrapped bytes is UnwrapFailedError', async () => {
    const root = open();
    for (const n of [1, 31, 32, 1793]) {
      const m = KeyMaterial.random(n);
      expect((await root.unwrapKey(await root.wrapKey(m))).equals(m)).toBe(true);
    }
    const { wrapped } = await root.generateKek();
    for (let bit = 0; bit < wrapped.length * 8; bit++) {
      const v = Buffer.from(wrapped);
      v[bit >> 3] ^= 1 << (bit & 7);
      await expect(root.unwrapKey(v)).rejects.toThrow(UnwrapFailedError);
    }
    for (let len = 0; len < wrapped.length; len++) await expect(root.unwrapKey(wrapped.subarray(0, len))).rejects.toThrow(UnwrapFailedError);
  });

  it('after close() every call is RootKeyUnavailableError', async () => {
    const root = open();
    await root.close();
    await expect(root.generateKek()).rejects.toBeInstanceOf(RootKeyUnavailableError);
    await expect(root.health()).rejects.toBeInstanceOf(RootKeyUnavailableError);
  });
});
