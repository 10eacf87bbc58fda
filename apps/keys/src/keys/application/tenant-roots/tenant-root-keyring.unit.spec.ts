import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { KeyMaterial, kwpUnwrap, kwpWrap, UnwrapFailedError } from '@ekm/crypto';
import type { EpochKeyring } from '../epochs/epoch-keyring';
import type { StoredKek, WrappedKek } from '../epochs/epoch.ports';
import { TenantRootKeyring } from './tenant-root-keyring';
import { decodeRoot, encodeExternalRoot, encodeLocalRoot, TenantRootPayloadInvalidError } from './tenant-root.payload';
import {
  ExternalEndpointNotAllowedError, ExternalKeyUnavailableError, tenantRootKeyId, TenantRootMissingError, type ExternalKms, type ExternalRootTarget, type TenantRootStore,
} from './tenant-root.ports';

/** An epoch layer under one fixed key, epoch 'e1'. */
function fakeEpochs(): EpochKeyring {
  const k = randomBytes(32);
  return {
    generateKek: async () => {
      const material = KeyMaterial.random(32);
      return { material, wrapped: { epoch: 'e1', wrapped: material.use((m) => kwpWrap(k, m)) } };
    },
    wrap: async (m: KeyMaterial) => ({ epoch: 'e1', wrapped: m.use((b) => kwpWrap(k, b)) }),
    unwrap: async (row: StoredKek) => KeyMaterial.adopt(kwpUnwrap(k, row.wrapped)),
    retryOnEpochMove: <T>(fn: () => Promise<T>) => fn(),
  } as unknown as EpochKeyring;
}

class MemoryRoots implements TenantRootStore {
  readonly rows = new Map<string, StoredKek>();
  async get(tenant: string) {
    return this.rows.get(tenant) ?? null;
  }
  async create(tenant: string, w: WrappedKek) {
    if (this.rows.has(tenant)) return false;
    this.rows.set(tenant, { keyId: tenantRootKeyId(tenant), version: 1, materialRef: tenantRootKeyId(tenant), ...w });
    return true;
  }
  async replace(tenant: string, w: WrappedKek) {
    this.rows.set(tenant, { ...this.rows.get(tenant)!, ...w });
  }
}

/** An external KMS: KWP under its own key, refusing with `refuse` when set; counts calls. */
class FakeExternal implements ExternalKms {
  allowed = true;
  allows(): boolean {
    return this.allowed;
  }

  private readonly k = randomBytes(32);
  refuse: ExternalKeyUnavailableError['reason'] | null = null;
  decrypts = 0;
  async encrypt(tenant: string, _t: ExternalRootTarget, p: KeyMaterial) {
    if (this.refuse) throw new ExternalKeyUnavailableError(tenant, this.refuse);
    return p.use((b) => kwpWrap(this.k, b));
  }
  async decrypt(tenant: string, _t: ExternalRootTarget, c: Buffer) {
    this.decrypts++;
    if (this.refuse) throw new ExternalKeyUnavailableError(tenant, this.refuse);
    return KeyMaterial.adopt(kwpUnwrap(this.k, c));
  }
}

const target: ExternalRootTarget = { endpoint: 'https://kms.example', region: 'eu-west-1', keyId: 'k-1', credentials: { accessKeyId: 'AKIA', secretAccessKey: 'very-secret' } };
const row = (keyId: string, w: WrappedKek): StoredKek => ({ keyId, version: 1, materialRef: `${keyId}/1`, ...w });

function setup(opts: { localTtlMs?: number; externalTtlMs?: number; maxEntries?: number } = {}) {
  let now = 1_000;
  const store = new MemoryRoots();
  const external = new FakeExternal();
  const keyring = new TenantRootKeyring(fakeEpochs(), store, external, { localTtlMs: 60_000, externalTtlMs: 2_000, maxEntries: 100, ...opts, now: () => now });
  return { keyring, store, external, advance: (ms: number) => (now += ms) };
}

describe('TenantRootKeyring', () => {
  it('creates one root per tenant on its first key; KEKs open only under their own tenant root', async () => {
    const { keyring, store } = setup();
    const a = await keyring.generateKek('a');
    const a2 = await keyring.generateKek('a');
    const b = await keyring.generateKek('b');
    expect([...store.rows.keys()].sort()).toEqual(['a', 'b']);
    expect(a.wrapped.tenantRoot).toBe('a');
    const opened = await keyring.unwrap(row('k1', a.wrapped));
    expect(opened.equals(a.material)).toBe(true);
    expect((await keyring.unwrap(row('k2', a2.wrapped))).equals(a2.material)).toBe(true);
    // A row re-labelled to another tenant (a database edit) does not open.
    await expect(keyring.unwrap(row('k1', { ...a.wrapped, tenantRoot: 'b' }))).rejects.toThrow(UnwrapFailedError);
    expect((await keyring.unwrap(row('k3', b.wrapped))).equals(b.material)).toBe(true);
  });

  it('opens a row written before tenant roots (no tenantRoot) under the epoch layer alone', async () => {
    const { keyring } = setup();
    const epochsOnly = (keyring as unknown as { epochs: EpochKeyring }).epochs;
    const kek = KeyMaterial.random(32);
    const legacy = await epochsOnly.wrap(kek);
    expect((await keyring.unwrap(row('old', legacy))).equals(kek)).toBe(true);
    expect(keyring.cacheBoundMs(row('old', legacy))).toBeUndefined();
  });

  it('a KEK row naming a tenant with no root row fails as missing material, and never creates one', async () => {
    const { keyring, store } = setup();
    const a = await keyring.generateKek('a');
    store.rows.delete('a');
    keyring.forget('a');
    await expect(keyring.unwrap(row('k', a.wrapped))).rejects.toThrow(TenantRootMissingError);
    expect(store.rows.has('a')).toBe(false);
  });

  it('external root: same TRK (old KEKs still open), one Decrypt per cache bound, KEK bound = remaining root bound, fails closed on refusal', async () => {
    const { keyring, external, advance } = setup({ externalTtlMs: 2_000 });
    const a = await keyring.generateKek('t');
    const info = await keyring.setExternal('t', target);
    expect(info).toEqual({ tenant: 't', kind: 'EXTERNAL', epoch: 'e1', external: { endpoint: target.endpoint, region: target.region, keyId: target.keyId } });
    expect(JSON.stringify(info)).not.toContain('very-secret');
    expect(JSON.stringify(await keyring.describe('t'))).not.toContain('very-secret');
    const r = row('k', a.wrapped);
    external.decrypts = 0;
    await Promise.all([keyring.unwrap(r), keyring.unwrap(r), keyring.unwrap(r)]);
    expect(external.decrypts).toBe(1); // single flight and cached
    expect(keyring.cacheBoundMs(r)).toBe(2_000);
    advance(1_500);
    expect(keyring.cacheBoundMs(r)).toBe(500);
    external.refuse = 'KEY_DISABLED';
    expect((await keyring.unwrap(r)).equals(a.material)).toBe(true); // still inside the bound
    advance(500);
    await expect(keyring.unwrap(r)).rejects.toMatchObject({ name: 'ExternalKeyUnavailableError', reason: 'KEY_DISABLED', tenant: 't' });
    await expect(keyring.generateKek('t')).rejects.toThrow(ExternalKeyUnavailableError);
    external.refuse = null;
    expect((await keyring.unwrap(r)).equals(a.material)).toBe(true);
  });

  it('setExternal stores nothing when the external KMS refuses', async () => {
    const { keyring, store, external } = setup();
    await keyring.generateKek('t');
    const before = store.rows.get('t')!.wrapped;
    external.refuse = 'ACCESS_DENIED';
    await expect(keyring.setExternal('t', target)).rejects.toMatchObject({ reason: 'ACCESS_DENIED' });
    expect(store.rows.get('t')!.wrapped.equals(before)).toBe(true);
    expect((await keyring.describe('t')).kind).toBe('LOCAL');
  });

  it('setExternal to an endpoint not allowed is refused before any external call, and stores nothing', async () => {
    const { keyring, store, external } = setup();
    await keyring.generateKek('t');
    const before = store.rows.get('t')!.wrapped;
    external.allowed = false;
    await expect(keyring.setExternal('t', target)).rejects.toBeInstanceOf(ExternalEndpointNotAllowedError);
    expect(external.decrypts).toBe(0);
    expect(store.rows.get('t')!.wrapped.equals(before)).toBe(true);
    expect((await keyring.describe('t')).kind).toBe('LOCAL');
  });

  it('EKM_XKS_CACHE_MS = 0 asks the external KMS on every load', async () => {
    const { keyring, external } = setup({ externalTtlMs: 0 });
    const a = await keyring.generateKek('t');
    await keyring.setExternal('t', target);
    external.decrypts = 0;
    await keyring.unwrap(row('k', a.wrapped));
    await keyring.unwrap(row('k', a.wrapped));
    expect(external.decrypts).toBe(2);
  });

  it('cached roots are bounded (UnwrappedKeyCache zeroes what it evicts)', async () => {
    const { keyring } = setup({ maxEntries: 2 });
    for (const t of ['a', 'b', 'c']) await keyring.generateKek(t);
    const cache = (keyring as unknown as { cache: { size: number } }).cache;
    expect(cache.size).toBe(2);
  });
});

describe('tenant root payload', () => {
  it('round-trips local and external payloads and binds the tenant', () => {
    fc.assert(fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.uint8Array({ minLength: 1, maxLength: 300 }), fc.string({ minLength: 1 }), (trk, ct, secret) => {
      const local = decodeRoot('t', encodeLocalRoot(Buffer.from(trk)));
      expect(local.kind === 'LOCAL' && local.trk.equals(Buffer.from(trk))).toBe(true);
      const t = { ...target, credentials: { ...target.credentials, secretAccessKey: secret } };
      const ext = decodeRoot('t', encodeExternalRoot('t', t, Buffer.from(ct)));
      expect(ext).toEqual({ kind: 'EXTERNAL', tenant: 't', target: t, ciphertext: Buffer.from(ct) });
      expect(() => decodeRoot('u', encodeExternalRoot('t', t, Buffer.from(ct)))).toThrow(TenantRootPayloadInvalidError);
    }));
  });

  it('refuses any other bytes, without echoing them', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 80 }), (bytes) => {
      const b = Buffer.from(bytes);
      if (b.length === 33 && b[0] === 1) return;
      try {
        const p = decodeRoot('t', b);
        expect(p.kind).toBe('EXTERNAL'); // only a well-formed external JSON decodes
      } catch (e) {
        expect(e).toBeInstanceOf(TenantRootPayloadInvalidError);
        expect((e as Error).message).toBe('the root key row of tenant t is malformed');
      }
    }));
  });
});
