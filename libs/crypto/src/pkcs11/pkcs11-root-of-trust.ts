import * as pkcs11js from 'pkcs11js';
import { CryptoError, EpochKeyDestroyedError, RootConfigInvalidError, RootKeyUnavailableError, RootOperationFailedError, UnwrapFailedError } from '../errors';
import { KeyMaterial } from '../key-material';
import { KEK_LENGTH, type RootOfTrust, type RootOfTrustDescription } from '../root-of-trust.port';
import { libraryGate, type LibraryGate } from './library-gate';
import { ckrName, isSessionLost, loadPkcs11 } from './pkcs11-library';
import { findOrCreateRootKey } from './root-key';
import { Pkcs11EpochKeys } from './pkcs11-epoch-keys';
import { SessionPool, type Lease } from './session-pool';

type Handle = pkcs11js.Handle;

export type Pkcs11RootOptions = {
  /** Path of the PKCS#11 module, e.g. /usr/lib/softhsm/libsofthsm2.so. */
  library: string;
  tokenLabel: string;
  /** User PIN. Never logged, never in errors. */
  pin: string;
  /** CKA_LABEL of the root key. */
  keyLabel: string;
  /** CKA_ID of the root key (UTF-8); default: keyLabel. */
  keyId?: string;
  /** Sessions in the pool; default 4 (libuv's default thread pool size). */
  sessions?: number;
  /** Generate the root key when none is found; default true. Set false where an HSM admin creates it. */
  createIfMissing?: boolean;
  /**
   * Minimum time between two full re-initializations of the library (C_Finalize + C_Initialize) when
   * session rebuilds keep failing; default 1000 ms. Bounds how long the service stays unavailable
   * after the token returns, and how often a token that stays away is rescanned.
   */
  reinitializeIntervalMs?: number;
};

/** PKCS#11 session state (spec value; pkcs11js does not export CKS_*). */
const CKS_RW_USER_FUNCTIONS = 3;
const KWP: pkcs11js.Mechanism = { mechanism: pkcs11js.CKM_AES_KEY_WRAP_PAD };

/** A session object that lives only for one operation: readable (to fill our cache) and wrappable. */
const EPHEMERAL_SECRET: pkcs11js.Template = [
  { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_SECRET_KEY },
  { type: pkcs11js.CKA_TOKEN, value: false },
  { type: pkcs11js.CKA_PRIVATE, value: true },
  { type: pkcs11js.CKA_SENSITIVE, value: false },
  { type: pkcs11js.CKA_EXTRACTABLE, value: true },
];
const GENERIC_SECRET: pkcs11js.Template = [...EPHEMERAL_SECRET, { type: pkcs11js.CKA_KEY_TYPE, value: pkcs11js.CKK_GENERIC_SECRET }];

/**
 * What we wrap is `u32 BE length || material || zeros to a multiple of 8`, never the bare material:
 * SoftHSM2 2.6.1's C_UnwrapKey with CKM_AES_KEY_WRAP_PAD returns the value WITH the RFC 5649 zero
 * padding (a 31-byte key comes back as 32 bytes), so lengths must survive inside the authenticated
 * payload. An 8-aligned payload is never padded by KWP, so the bug cannot bite.
 */
export function framePayload(material: Buffer): Buffer {
  const out = Buffer.alloc(Math.ceil((4 + material.length) / 8) * 8);
  out.writeUInt32BE(material.length, 0);
  material.copy(out, 4);
  return out;
}

/** Inverse of framePayload; anything inconsistent throws (mapped to UnwrapFailedError). */
export function unframePayload(payload: Buffer): Buffer {
  if (payload.length < 8 || payload.length % 8 !== 0) throw new Error('bad frame');
  const length = payload.readUInt32BE(0);
  if (length < 1 || Math.ceil((4 + length) / 8) * 8 !== payload.length || payload.subarray(4 + length).some((b) => b !== 0)) {
    throw new Error('bad frame');
  }
  return Buffer.from(payload.subarray(4, 4 + length));
}

/**
 * Root of trust in a PKCS#11 token (SoftHSM2 in tests, a real HSM in production).
 *
 * Mechanism: CKM_AES_KEY_WRAP_PAD (RFC 5649 AES-KWP) through C_WrapKey / C_UnwrapKey. SoftHSM2 2.6.1
 * lists AES_KEY_GEN, AES_KEY_WRAP (RFC 3394), AES_KEY_WRAP_PAD, AES_GCM, AES_CBC(_PAD), AES_CTR,
 * AES_ECB, AES_CMAC. KWP is chosen because it is deterministic and integrity-checked, wraps any length
 * (32-byte KEKs and ~2.4 KB PKCS#8 import keys, which RFC 3394 could only do with 8-byte alignment),
 * and is the same algorithm as Node's `id-aes256-wrap-pad` used by the software root. SoftHSM refuses
 * KWP in C_Encrypt, hence the wrap/unwrap calls. The root key is an AES-256 token object with
 * CKA_SENSITIVE, not CKA_EXTRACTABLE, CKA_WRAP/CKA_UNWRAP only (no ENCRYPT/DECRYPT), and a CKA_ID.
 *
 * KEKs are generated in the token as session objects (CKA_TOKEN=false, extractable, not sensitive),
 * read once (CKA_VALUE) into our cache, destroyed, and wrapped under the root; unwrap creates a
 * session object the same way (see framePayload for the stored format). Token-object creation (~6 ms) happens only for the root, once.
 *
 * Async: generate/wrap/unwrap use pkcs11js' *Async calls (libuv thread pool); the short calls
 * (C_CreateObject, C_GetAttributeValue, C_DestroyObject, login) are synchronous and block the event
 * loop for microseconds. Rebuilding the pool is synchronous too (a few ms, only after a failure).
 * Errors never fall back to software: availability problems are RootKeyUnavailableError after one
 * rebuild-and-retry; every unwrap failure is UnwrapFailedError.
 *
 * Recovery: when the rebuild fails too (token gone, or SoftHSM2 holding a returned token invalid), the
 * library is re-initialized (LibraryGate, rate-limited by reinitializeIntervalMs) and the operation
 * tried once more; the rebuild then finds the existing root key and never creates one.
 */
export class Pkcs11RootOfTrust implements RootOfTrust {
  readonly epochs: Pkcs11EpochKeys;

  private constructor(
    private readonly gate: LibraryGate,
    private readonly pool: SessionPool,
    private readonly options: Required<Pkcs11RootOptions>,
  ) {
    this.epochs = new Pkcs11EpochKeys(this, `${options.keyLabel}:epoch`);
  }

  static async open(options: Pkcs11RootOptions): Promise<Pkcs11RootOfTrust> {
    const opts: Required<Pkcs11RootOptions> = { keyId: options.keyLabel, sessions: 4, createIfMissing: true, reinitializeIntervalMs: 1000, ...options };
    if (!Number.isInteger(opts.sessions) || opts.sessions < 1) throw new RootConfigInvalidError('PKCS#11 session pool size must be >= 1');
    const lib = loadPkcs11(opts.library);
    const gate = libraryGate(lib);
    const findRootKey = (s: Handle, isRebuild: boolean): Handle => findOrCreateRootKey(lib, s, { ...opts, isRebuild });
    const pool = new SessionPool({ gate, tokenLabel: opts.tokenLabel, pin: opts.pin, size: opts.sessions, findRootKey });
    await gate.guard(async () => pool.build());
    const root = new Pkcs11RootOfTrust(gate, pool, opts);
    await root.health();
    return root;
  }

  async wrapKey(material: KeyMaterial): Promise<Buffer> {
    return this.wrapUnder(material, (lease) => lease.rootKey);
  }

  async unwrapKey(wrapped: Buffer): Promise<KeyMaterial> {
    return this.unwrapUnder(wrapped, (lease) => lease.rootKey);
  }

  /** The KEK comes from the token's RNG (C_GenerateKey); it is read once, then wrapped framed like any material. */
  async generateKek(): Promise<{ material: KeyMaterial; wrapped: Buffer }> {
    return this.generateUnder((lease) => lease.rootKey);
  }

  /** Wraps under the token key `wrappingKey` picks in the leased session (the root key, or an epoch key). */
  async wrapUnder(material: KeyMaterial, wrappingKey: (lease: Lease) => Handle): Promise<Buffer> {
    const payload = material.use(framePayload);
    try {
      return await this.run('wrap', async (lease) => {
        const { session } = lease;
        const key = this.lib.C_CreateObject(session, [...GENERIC_SECRET, { type: pkcs11js.CKA_VALUE, value: payload }]);
        try {
          return await this.lib.C_WrapKeyAsync(session, KWP, wrappingKey(lease), key, Buffer.alloc(payload.length + 16));
        } finally {
          this.destroy(session, key);
        }
      });
    } finally {
      payload.fill(0);
    }
  }

  async unwrapUnder(wrapped: Buffer, wrappingKey: (lease: Lease) => Handle): Promise<KeyMaterial> {
    let payload: Buffer | undefined;
    try {
      payload = await this.run('unwrap', async (lease) => {
        const { session } = lease;
        const key = await this.lib.C_UnwrapKeyAsync(session, KWP, wrappingKey(lease), wrapped, GENERIC_SECRET);
        try {
          return this.readValue(session, key);
        } finally {
          this.destroy(session, key);
        }
      });
      return KeyMaterial.adopt(unframePayload(payload));
    } catch (e) {
      if (e instanceof RootKeyUnavailableError || e instanceof EpochKeyDestroyedError) throw e;
      throw new UnwrapFailedError();
    } finally {
      payload?.fill(0);
    }
  }

  async generateUnder(wrappingKey: (lease: Lease) => Handle): Promise<{ material: KeyMaterial; wrapped: Buffer }> {
    const value = await this.run('generate', async ({ session }) => {
      const template = [...EPHEMERAL_SECRET, { type: pkcs11js.CKA_KEY_TYPE, value: pkcs11js.CKK_AES }, { type: pkcs11js.CKA_VALUE_LEN, value: KEK_LENGTH }];
      const key = await this.lib.C_GenerateKeyAsync(session, { mechanism: pkcs11js.CKM_AES_KEY_GEN }, template);
      try {
        return this.readValue(session, key);
      } finally {
        this.destroy(session, key);
      }
    });
    if (value.length !== KEK_LENGTH) throw new RootOperationFailedError('generate', `token returned ${value.length} bytes`);
    const material = KeyMaterial.adopt(value);
    try {
      return { material, wrapped: await this.wrapUnder(material, wrappingKey) };
    } catch (e) {
      material.dispose();
      throw e;
    }
  }

  /** Checks that a session is logged in and the root key handle is live (rebuilding once if not). */
  async health(): Promise<void> {
    await this.run('health', ({ session, rootKey }) => {
      const info = this.lib.C_GetSessionInfo(session);
      if (info.state !== CKS_RW_USER_FUNCTIONS) {
        throw Object.assign(new Error('session not logged in'), { code: pkcs11js.CKR_USER_NOT_LOGGED_IN });
      }
      this.lib.C_GetAttributeValue(session, rootKey, [{ type: pkcs11js.CKA_CLASS }]);
    });
  }

  describe(): RootOfTrustDescription {
    const { library, tokenLabel, keyLabel, keyId, sessions } = this.options;
    return { kind: 'pkcs11', library, tokenLabel, keyLabel, keyId, sessions };
  }

  async close(): Promise<void> {
    this.pool.close();
  }

  /** The loaded module; for Pkcs11EpochKeys' short synchronous calls inside `run`. */
  get lib(): pkcs11js.PKCS11 {
    return this.gate.lib;
  }

  /**
   * Runs op with a session; when it still ends unavailable after the pool's own rebuild, re-initializes
   * the library (rate-limited) and tries once more. The retry is safe: every op is a fresh
   * generate/wrap/unwrap whose session objects die with their session.
   */
  async run<T>(operation: string, op: (lease: Lease) => Promise<T> | T): Promise<T> {
    try {
      return await this.gate.guard(() => this.attempt(operation, op));
    } catch (e) {
      if (!(e instanceof RootKeyUnavailableError) || e.reason === 'CLOSED') throw e;
      if (!(await this.gate.reinitialize(this.options.reinitializeIntervalMs))) throw e;
      return await this.gate.guard(() => this.attempt(operation, op));
    }
  }

  /** Borrows a session; on a session-lost error rebuilds the pool and retries exactly once. */
  private async attempt<T>(operation: string, op: (lease: Lease) => Promise<T> | T): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      const lease = await this.pool.acquire();
      try {
        return await op(lease);
      } catch (e) {
        if (e instanceof RootKeyUnavailableError || e instanceof EpochKeyDestroyedError) throw e;
        if (!isSessionLost(e)) {
          if (e instanceof CryptoError) throw e;
          throw new RootOperationFailedError(operation, ckrName(e));
        }
        if (attempt > 0) throw new RootKeyUnavailableError(`PKCS#11 ${operation} failed after a session rebuild: ${ckrName(e)}`, ckrName(e));
        this.pool.rebuildAfter(lease.generation);
      } finally {
        this.pool.release(lease);
      }
    }
  }

  private readValue(session: Handle, key: Handle): Buffer {
    const [attr] = this.lib.C_GetAttributeValue(session, key, [{ type: pkcs11js.CKA_VALUE }]);
    if (!Buffer.isBuffer(attr?.value)) throw new RootOperationFailedError('read', 'CKA_VALUE missing');
    return attr.value;
  }

  private destroy(session: Handle, key: Handle): void {
    try {
      this.lib.C_DestroyObject(session, key);
    } catch {
      // the session is gone, and its session objects with it
    }
  }
}
