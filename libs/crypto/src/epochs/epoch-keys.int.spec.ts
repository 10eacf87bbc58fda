/**
 * Both epoch-key adapters against the same contract: real files under the software root, real token
 * objects in SoftHSM2 under PKCS#11. A destroyed epoch key opens nothing any more, on this instance
 * and on a second one that shares the data dir / token (another replica).
 */
import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EpochKeyDestroyedError, UnwrapFailedError } from '../errors';
import { KeyMaterial } from '../key-material';
import { Pkcs11RootOfTrust } from '../pkcs11/pkcs11-root-of-trust';
import { createSoftHsmToken } from '../pkcs11/testing/softhsm-token';
import type { RootOfTrust } from '../root-of-trust.port';
import { EPOCH_DIR } from '../software/software-epoch-keys';
import { SoftwareRootOfTrust } from '../software/software-root-of-trust';
import { EPOCH_ID_PATTERN } from './epoch-keys.port';

type Pair = { a: RootOfTrust; b: RootOfTrust; close: () => Promise<void>; file?: (id: string) => string };

const software = (): Pair => {
  const dir = mkdtempSync(join(tmpdir(), 'ekm-epochs-'));
  const open = () => SoftwareRootOfTrust.open({ dataDir: dir, secret: 'epoch-test-secret-0123', env: 'production', scrypt: { N: 1 << 14, r: 8, p: 1 } });
  const a = open();
  const b = open();
  return {
    a, b, file: (id) => join(dir, EPOCH_DIR, `${id}.epoch`),
    close: async () => {
      await a.close();
      await b.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
};

const pkcs11 = async (): Promise<Pair> => {
  const token = createSoftHsmToken();
  const opts = { library: token.library, tokenLabel: token.tokenLabel, pin: token.pin, keyLabel: `ekm-root-${randomUUID()}` };
  const a = await Pkcs11RootOfTrust.open(opts);
  const b = await Pkcs11RootOfTrust.open(opts);
  return { a, b, close: async () => { await a.close(); await b.close(); } };
};

describe.each([
  ['software', async () => software()],
  ['pkcs11 (SoftHSM2)', pkcs11],
])('epoch keys under the %s root', (_name, make) => {
  let p: Pair;
  beforeAll(async () => {
    p = await make();
  });
  afterAll(async () => p?.close());

  it('creates ordered epochs, wraps under each, and a destroyed epoch opens nothing on any instance', async () => {
    const e1 = await p.a.epochs.create();
    const e2 = await p.a.epochs.create();
    expect(e1.id).toMatch(EPOCH_ID_PATTERN);
    expect(e1.id < e2.id).toBe(true);
    expect((await p.b.epochs.list()).map((e) => e.id)).toEqual(expect.arrayContaining([e1.id, e2.id]));
    const { material, wrapped } = await p.a.epochs.generateKek(e1.id);
    const underE2 = await p.a.epochs.wrap(e2.id, material);
    expect((await p.b.epochs.unwrap(e1.id, wrapped)).equals(material)).toBe(true);
    expect((await p.b.epochs.unwrap(e2.id, underE2)).equals(material)).toBe(true);
    // The same bytes under another epoch are garbage: no epoch opens another's wraps.
    await expect(p.a.epochs.unwrap(e2.id, wrapped)).rejects.toBeInstanceOf(UnwrapFailedError);
    await expect(p.a.unwrapKey(wrapped)).rejects.toBeInstanceOf(UnwrapFailedError);

    await p.a.epochs.destroy(e1.id);
    if (p.file) expect(existsSync(p.file(e1.id))).toBe(false);
    expect((await p.a.epochs.list()).map((e) => e.id)).not.toContain(e1.id);
    await expect(p.a.epochs.unwrap(e1.id, wrapped)).rejects.toBeInstanceOf(EpochKeyDestroyedError);
    // b had e1 cached (it unwrapped under it above): it must not keep using it.
    await expect(p.b.epochs.unwrap(e1.id, wrapped)).rejects.toBeInstanceOf(EpochKeyDestroyedError);
    expect((await p.b.epochs.unwrap(e2.id, underE2)).equals(material)).toBe(true);
    await p.a.epochs.destroy(e1.id); // idempotent
    material.dispose();
  });

  it('an unknown or malformed epoch id is EpochKeyDestroyedError, and the message names only the id', async () => {
    const m = KeyMaterial.random(32);
    await expect(p.a.epochs.wrap('e00000000000001-deadbeef', m)).rejects.toThrow(/epoch key e00000000000001-deadbeef is not in the root of trust/);
    await expect(p.a.epochs.unwrap('../../etc/passwd', Buffer.alloc(40))).rejects.toBeInstanceOf(EpochKeyDestroyedError);
    m.dispose();
  });
});

it('the software epoch file is 0600 and holds no raw key (it is wrapped under the sealed root)', async () => {
  const p = software();
  try {
    const e = await p.a.epochs.create();
    const dir = join(p.file!(e.id), '..');
    expect(readdirSync(dir)).toEqual([`${e.id}.epoch`]);
    expect(statSync(p.file!(e.id)).mode & 0o777).toBe(0o600);
    expect(JSON.parse(readFileSync(p.file!(e.id), 'utf8'))).toEqual({ format: 'ekm-epoch-key/v1', id: e.id, wrapped: expect.any(String) });
  } finally {
    await p.close();
  }
});
