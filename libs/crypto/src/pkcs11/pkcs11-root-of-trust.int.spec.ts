import { constants, createCipheriv, publicEncrypt, randomBytes, randomUUID } from 'node:crypto';
import * as pkcs11js from 'pkcs11js';
import { RootConfigInvalidError, RootKeyUnavailableError, UnwrapFailedError } from '../errors';
import { generateImportWrappingKeyPair, unwrapImportedMaterial } from '../import/import-crypto';
import { KeyMaterial } from '../key-material';
import { loadPkcs11 } from './pkcs11-library';
import { Pkcs11RootOfTrust } from './pkcs11-root-of-trust';
import { createSoftHsmToken, type SoftHsmToken } from './testing/softhsm-token';

// One token per suite; failure-path suites get their own so no earlier login masks a wrong PIN.
let token: SoftHsmToken;
let pristine: SoftHsmToken;
let root: Pkcs11RootOfTrust;
const keyLabel = `ekm-root-${randomUUID()}`;

const codeOf = (fn: () => unknown): number | undefined => {
  try {
    fn();
  } catch (e) {
    return (e as { code?: number }).code;
  }
  return undefined;
};

beforeAll(async () => {
  token = createSoftHsmToken();
  pristine = createSoftHsmToken();
  root = await Pkcs11RootOfTrust.open({ library: token.library, tokenLabel: token.tokenLabel, pin: token.pin, keyLabel, sessions: 4 });
});
afterAll(async () => {
  await root?.close();
  token?.cleanup();
  pristine?.cleanup();
});

/** A separate raw session on the test token, to inspect the root key the way an attacker with the PIN would. */
function withRawSession<T>(fn: (lib: pkcs11js.PKCS11, session: Buffer, rootKey: Buffer) => T): T {
  const lib = loadPkcs11(token.library);
  const slot = lib.C_GetSlotList(true).find((s) => lib.C_GetTokenInfo(s).label.trimEnd() === token.tokenLabel)!;
  const session = lib.C_OpenSession(slot, pkcs11js.CKF_SERIAL_SESSION | pkcs11js.CKF_RW_SESSION);
  try {
    lib.C_FindObjectsInit(session, [{ type: pkcs11js.CKA_LABEL, value: keyLabel }]);
    const [rootKey] = lib.C_FindObjects(session, 2);
    lib.C_FindObjectsFinal(session);
    return fn(lib, session, rootKey);
  } finally {
    lib.C_CloseSession(session);
  }
}

describe('failure paths (no software fallback)', () => {
  it('a wrong PIN is RootKeyUnavailableError naming CKR_PIN_INCORRECT', async () => {
    const open = Pkcs11RootOfTrust.open({ library: pristine.library, tokenLabel: pristine.tokenLabel, pin: 'not-the-pin', keyLabel: 'x' });
    await expect(open).rejects.toBeInstanceOf(RootKeyUnavailableError);
    await expect(open).rejects.toMatchObject({ reason: 'CKR_PIN_INCORRECT', retriable: true });
    await expect(open).rejects.not.toThrow(/not-the-pin/);
  });

  it('a missing token is RootKeyUnavailableError', async () => {
    const open = Pkcs11RootOfTrust.open({ library: token.library, tokenLabel: `absent-${randomUUID()}`.slice(0, 32), pin: token.pin, keyLabel: 'x' });
    await expect(open).rejects.toMatchObject({ name: 'RootKeyUnavailableError', reason: 'TOKEN_NOT_FOUND' });
  });

  it('a missing library is RootKeyUnavailableError', async () => {
    const open = Pkcs11RootOfTrust.open({ library: '/nonexistent/libpkcs11.so', tokenLabel: token.tokenLabel, pin: token.pin, keyLabel: 'x' });
    await expect(open).rejects.toMatchObject({ name: 'RootKeyUnavailableError', reason: 'LIBRARY_MISSING' });
  });

  it('createIfMissing=false refuses an absent root key', async () => {
    const open = Pkcs11RootOfTrust.open({ ...token, keyLabel: `absent-${randomUUID()}`, createIfMissing: false });
    await expect(open).rejects.toBeInstanceOf(RootConfigInvalidError);
  });
});

describe('root key', () => {
  it('is a sensitive, non-extractable AES-256 token object with an id and a label', () => {
    withRawSession((lib, session, rootKey) => {
      const attrs = lib.C_GetAttributeValue(session, rootKey, [
        { type: pkcs11js.CKA_TOKEN }, { type: pkcs11js.CKA_SENSITIVE }, { type: pkcs11js.CKA_EXTRACTABLE },
        { type: pkcs11js.CKA_NEVER_EXTRACTABLE }, { type: pkcs11js.CKA_WRAP }, { type: pkcs11js.CKA_UNWRAP },
        { type: pkcs11js.CKA_ENCRYPT }, { type: pkcs11js.CKA_VALUE_LEN }, { type: pkcs11js.CKA_ID }, { type: pkcs11js.CKA_LABEL },
      ]).map((a) => a.value as Buffer);
      expect(attrs.slice(0, 7).map((b) => b[0])).toEqual([1, 1, 0, 1, 1, 1, 0]);
      expect(attrs[7].readBigUInt64LE(0)).toBe(32n); // CK_ULONG, 64-bit on this platform
      expect(attrs[8].toString()).toBe(keyLabel);
      expect(attrs[9].toString()).toBe(keyLabel);
    });
  });

  it('cannot be read (CKR_ATTRIBUTE_SENSITIVE) or wrapped out (CKR_KEY_UNEXTRACTABLE)', () => {
    withRawSession((lib, session, rootKey) => {
      expect(codeOf(() => lib.C_GetAttributeValue(session, rootKey, [{ type: pkcs11js.CKA_VALUE }]))).toBe(pkcs11js.CKR_ATTRIBUTE_SENSITIVE);
      const kwp = { mechanism: pkcs11js.CKM_AES_KEY_WRAP_PAD };
      expect(codeOf(() => lib.C_WrapKey(session, kwp, rootKey, rootKey, Buffer.alloc(64)))).toBe(pkcs11js.CKR_KEY_UNEXTRACTABLE);
    });
  });

  it('is found again, not duplicated, by a second open', async () => {
    const again = await Pkcs11RootOfTrust.open({ ...token, keyLabel, sessions: 1 });
    try {
      const { material, wrapped } = await root.generateKek();
      expect((await again.unwrapKey(wrapped)).equals(material)).toBe(true);
    } finally {
      await again.close();
    }
    withRawSession((lib, session) => {
      lib.C_FindObjectsInit(session, [{ type: pkcs11js.CKA_LABEL, value: keyLabel }]);
      expect(lib.C_FindObjects(session, 5)).toHaveLength(1);
      lib.C_FindObjectsFinal(session);
    });
  });

  it('describe() names the token and key, nothing secret', () => {
    const d = root.describe();
    expect(d).toMatchObject({ kind: 'pkcs11', tokenLabel: token.tokenLabel, keyLabel, keyId: keyLabel, sessions: 4 });
    expect(JSON.stringify(d)).not.toContain(token.pin);
  });
});

describe('KEKs', () => {
  it('generate → wrap → unwrap round trip; the wrapped form is KWP of the 40-byte framed payload', async () => {
    const { material, wrapped } = await root.generateKek();
    expect(material.length).toBe(32);
    expect(wrapped).toHaveLength(48);
    const back = await root.unwrapKey(wrapped);
    expect(back.equals(material)).toBe(true);
    expect((await root.unwrapKey(await root.wrapKey(material))).equals(material)).toBe(true);
  });

  it('wraps and unwraps arbitrary-length material exactly (SoftHSM KWP padding bug is framed away)', async () => {
    for (const n of [1, 7, 8, 9, 31, 33, 100]) {
      const m = KeyMaterial.random(n);
      const back = await root.unwrapKey(await root.wrapKey(m));
      expect(back.length).toBe(n);
      expect(back.equals(m)).toBe(true);
    }
    const { privateKey } = await generateImportWrappingKeyPair('RSA_3072');
    const back = await root.unwrapKey(await root.wrapKey(privateKey));
    expect(back.equals(privateKey)).toBe(true);
  });

  it('every single-bit flip and truncation of a wrapped KEK is UnwrapFailedError', async () => {
    const { wrapped } = await root.generateKek();
    const variants: Buffer[] = [];
    for (let bit = 0; bit < wrapped.length * 8; bit++) {
      const v = Buffer.from(wrapped);
      v[bit >> 3] ^= 1 << (bit & 7);
      variants.push(v);
    }
    for (let len = 0; len < wrapped.length; len++) variants.push(wrapped.subarray(0, len));
    for (const v of variants) await expect(root.unwrapKey(v)).rejects.toThrow(UnwrapFailedError);
    await expect(root.unwrapKey(wrapped)).resolves.toBeInstanceOf(KeyMaterial); // the session pool survived all that
  });

  it('32 concurrent wraps and unwraps complete (no deadlock)', async () => {
    const keks = await Promise.all(Array.from({ length: 32 }, () => root.generateKek()));
    const results = await Promise.all(keks.flatMap(({ material, wrapped }) => [root.unwrapKey(wrapped).then((m) => m.equals(material)), root.wrapKey(material).then((w) => w.equals(wrapped))]));
    expect(results.every(Boolean)).toBe(true);
  });
});

describe('session rebuild', () => {
  it('after C_CloseAllSessions the next operation rebuilds, logs in again and succeeds', async () => {
    const { material, wrapped } = await root.generateKek();
    const lib = loadPkcs11(token.library);
    const slot = lib.C_GetSlotList(true).find((s) => lib.C_GetTokenInfo(s).label.trimEnd() === token.tokenLabel)!;
    lib.C_CloseAllSessions(slot);
    expect((await root.unwrapKey(wrapped)).equals(material)).toBe(true);
    lib.C_CloseAllSessions(slot);
    const many = await Promise.all(Array.from({ length: 16 }, () => root.unwrapKey(wrapped)));
    expect(many.every((m) => m.equals(material))).toBe(true);
    await expect(root.health()).resolves.toBeUndefined();
  });

  it('a closed root refuses with RootKeyUnavailableError', async () => {
    const other = await Pkcs11RootOfTrust.open({ ...token, keyLabel, sessions: 1 });
    await other.close();
    await expect(other.generateKek()).rejects.toBeInstanceOf(RootKeyUnavailableError);
  });
});

describe('import (BYOK) with node:crypto as the customer HSM', () => {
  it.each(['RSAES_OAEP_SHA_256', 'RSA_AES_KEY_WRAP_SHA_256'] as const)('%s: customer material survives import and root wrapping', async (algorithm) => {
    const pair = await generateImportWrappingKeyPair('RSA_3072');
    const storedPrivateKey = await root.wrapKey(pair.privateKey); // what the key service keeps until import
    pair.privateKey.dispose();
    const customerKey = randomBytes(32);
    const publicKey = { key: Buffer.from(pair.publicKey, 'base64'), format: 'der' as const, type: 'spki' as const, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' };
    let encryptedMaterial: Buffer;
    if (algorithm === 'RSAES_OAEP_SHA_256') {
      encryptedMaterial = publicEncrypt(publicKey, customerKey);
    } else {
      const ephemeral = randomBytes(32);
      const kwp = createCipheriv('id-aes256-wrap-pad', ephemeral, Buffer.from('A65959A6', 'hex'));
      encryptedMaterial = Buffer.concat([publicEncrypt(publicKey, ephemeral), kwp.update(customerKey), kwp.final()]);
    }
    const privateKey = await root.unwrapKey(storedPrivateKey);
    const imported = unwrapImportedMaterial({ algorithm, privateKey, encryptedMaterial });
    expect(imported.use((b) => b.equals(customerKey))).toBe(true);
    expect((await root.unwrapKey(await root.wrapKey(imported))).equals(imported)).toBe(true);
  });
});
