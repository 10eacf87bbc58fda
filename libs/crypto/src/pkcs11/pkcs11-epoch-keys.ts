import { randomBytes } from 'node:crypto';
import * as pkcs11js from 'pkcs11js';
import { EpochKeyDestroyedError } from '../errors';
import type { KeyMaterial } from '../key-material';
import { EPOCH_ID_PATTERN, epochCreatedAt, newEpochId, type EpochKeyInfo, type EpochKeyStore } from '../epochs/epoch-keys.port';
import type { Lease } from './session-pool';

type Handle = pkcs11js.Handle;

/** What Pkcs11RootOfTrust lends its epoch keys: leased sessions and wraps under a chosen token key. */
export interface Pkcs11Runner {
  readonly lib: pkcs11js.PKCS11;
  run<T>(operation: string, op: (lease: Lease) => Promise<T> | T): Promise<T>;
  wrapUnder(material: KeyMaterial, wrappingKey: (lease: Lease) => Handle): Promise<Buffer>;
  unwrapUnder(wrapped: Buffer, wrappingKey: (lease: Lease) => Handle): Promise<KeyMaterial>;
  generateUnder(wrappingKey: (lease: Lease) => Handle): Promise<{ material: KeyMaterial; wrapped: Buffer }>;
}

/**
 * Epoch keys as AES-256 token objects next to the root key: CKA_LABEL `<rootLabel>:epoch`, CKA_ID the
 * epoch id, CKA_TOKEN, CKA_SENSITIVE, not CKA_EXTRACTABLE, WRAP/UNWRAP only. Created with
 * C_GenerateKey (~6 ms: once per epoch roll, never on the hot path), destroyed with C_DestroyObject,
 * which is the whole of crypto-shredding here: the token never exports the key, so nothing outside
 * the HSM (a database backup included) can open what only it wrapped.
 *
 * Handles are looked up once per pool generation (a rebuilt pool may renumber objects) and the
 * lookup runs in the leased session itself, so an epoch destroyed by another process is found
 * missing there (EpochKeyDestroyedError) rather than used through a stale handle.
 */
export class Pkcs11EpochKeys implements EpochKeyStore {
  private readonly handles = new Map<string, { handle: Handle; generation: number }>();

  constructor(private readonly root: Pkcs11Runner, private readonly label: string, private readonly now: () => number = Date.now) {}

  async list(): Promise<EpochKeyInfo[]> {
    const ids = await this.root.run('list epochs', ({ session }) =>
      this.find(session, [{ type: pkcs11js.CKA_LABEL, value: this.label }], 1000).map((h) => {
        const [attr] = this.root.lib.C_GetAttributeValue(session, h, [{ type: pkcs11js.CKA_ID }]);
        return Buffer.isBuffer(attr?.value) ? attr.value.toString('utf8') : '';
      }),
    );
    return ids.filter((id) => EPOCH_ID_PATTERN.test(id)).sort().map((id) => ({ id, createdAt: epochCreatedAt(id) }));
  }

  async create(): Promise<EpochKeyInfo> {
    const last = (await this.list()).at(-1);
    let nowMs = this.now();
    if (last && Number(last.id.slice(1, 15)) >= nowMs) nowMs = Number(last.id.slice(1, 15)) + 1;
    const id = newEpochId(nowMs, randomBytes(4).toString('hex'));
    await this.root.run('create epoch', async ({ session }) => {
      await this.root.lib.C_GenerateKeyAsync(session, { mechanism: pkcs11js.CKM_AES_KEY_GEN }, [
        ...this.match(id),
        { type: pkcs11js.CKA_VALUE_LEN, value: 32 },
        { type: pkcs11js.CKA_TOKEN, value: true },
        { type: pkcs11js.CKA_PRIVATE, value: true },
        { type: pkcs11js.CKA_SENSITIVE, value: true },
        { type: pkcs11js.CKA_EXTRACTABLE, value: false },
        { type: pkcs11js.CKA_WRAP, value: true },
        { type: pkcs11js.CKA_UNWRAP, value: true },
        { type: pkcs11js.CKA_ENCRYPT, value: false },
        { type: pkcs11js.CKA_DECRYPT, value: false },
      ]);
    });
    return { id, createdAt: epochCreatedAt(id) };
  }

  async destroy(id: string): Promise<void> {
    this.handles.delete(id);
    await this.root.run('destroy epoch', ({ session }) => {
      for (const h of this.find(session, this.match(id), 10)) this.root.lib.C_DestroyObject(session, h);
    });
  }

  wrap(id: string, material: KeyMaterial): Promise<Buffer> {
    return this.root.wrapUnder(material, (lease) => this.handle(id, lease));
  }

  unwrap(id: string, wrapped: Buffer): Promise<KeyMaterial> {
    return this.root.unwrapUnder(wrapped, (lease) => this.handle(id, lease));
  }

  generateKek(id: string): Promise<{ material: KeyMaterial; wrapped: Buffer }> {
    return this.root.generateUnder((lease) => this.handle(id, lease));
  }

  private handle(id: string, lease: Lease): Handle {
    const cached = this.handles.get(id);
    if (cached && cached.generation === lease.generation) return cached.handle;
    if (!EPOCH_ID_PATTERN.test(id)) throw new EpochKeyDestroyedError(id);
    const [handle] = this.find(lease.session, this.match(id), 2);
    if (handle === undefined) {
      this.handles.delete(id);
      throw new EpochKeyDestroyedError(id);
    }
    this.handles.set(id, { handle, generation: lease.generation });
    return handle;
  }

  private match(id: string): pkcs11js.Template {
    return [
      { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_SECRET_KEY },
      { type: pkcs11js.CKA_KEY_TYPE, value: pkcs11js.CKK_AES },
      { type: pkcs11js.CKA_LABEL, value: this.label },
      { type: pkcs11js.CKA_ID, value: Buffer.from(id, 'utf8') },
    ];
  }

  private find(session: Handle, template: pkcs11js.Template, max: number): Handle[] {
    const lib = this.root.lib;
    lib.C_FindObjectsInit(session, template);
    try {
      return lib.C_FindObjects(session, max);
    } finally {
      lib.C_FindObjectsFinal(session);
    }
  }
}
