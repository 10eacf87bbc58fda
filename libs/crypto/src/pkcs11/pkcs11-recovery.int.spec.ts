import { randomUUID } from 'node:crypto';
import { renameSync } from 'node:fs';
import * as pkcs11js from 'pkcs11js';
import { RootKeyUnavailableError } from '../errors';
import { KeyMaterial } from '../key-material';
import { loadPkcs11 } from './pkcs11-library';
import { Pkcs11RootOfTrust } from './pkcs11-root-of-trust';
import { createSoftHsmToken, type SoftHsmToken } from './testing/softhsm-token';

// The HSM going away and coming back: SoftHSM2 holds a token whose directory vanished as
// invalid until the library is re-initialized, so these tests fail without LibraryGate.reinitialize.
let token: SoftHsmToken;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

beforeAll(() => {
  token = createSoftHsmToken();
});

/** Objects labelled `label` in the token, seen through a fresh raw session. */
function countKeys(label: string): number {
  const lib = loadPkcs11(token.library);
  const slot = lib.C_GetSlotList(true).find((s) => lib.C_GetTokenInfo(s).label.trimEnd() === token.tokenLabel)!;
  const session = lib.C_OpenSession(slot, pkcs11js.CKF_SERIAL_SESSION | pkcs11js.CKF_RW_SESSION);
  try {
    try {
      lib.C_Login(session, pkcs11js.CKU_USER, token.pin);
    } catch (e) {
      if ((e as { code?: number }).code !== pkcs11js.CKR_USER_ALREADY_LOGGED_IN) throw e;
    }
    lib.C_FindObjectsInit(session, [{ type: pkcs11js.CKA_LABEL, value: label }]);
    const found = lib.C_FindObjects(session, 10);
    lib.C_FindObjectsFinal(session);
    return found.length;
  } finally {
    lib.C_CloseSession(session);
  }
}

/** Polls `op` every 50 ms until it resolves; returns the milliseconds it took. */
async function msUntil(op: () => Promise<unknown>, limitMs: number): Promise<number> {
  const start = performance.now();
  for (;;) {
    try {
      await op();
      return performance.now() - start;
    } catch (e) {
      expect(e).toBeInstanceOf(RootKeyUnavailableError); // nothing else while recovering, never a fallback
      if (performance.now() - start > limitMs) throw e;
      await sleep(50);
    }
  }
}

describe('token directory gone and back', () => {
  it('typed RootKeyUnavailableError while away, serving again within 5 s of its return, same root key', async () => {
    const keyLabel = `ekm-root-${randomUUID()}`;
    const root = await Pkcs11RootOfTrust.open({ ...token, keyLabel, sessions: 2, reinitializeIntervalMs: 500 });
    const away = `${token.tokensDir}.away`;
    try {
      const { material, wrapped } = await root.generateKek();
      renameSync(token.tokensDir, away);
      try {
        await expect(root.unwrapKey(wrapped)).rejects.toBeInstanceOf(RootKeyUnavailableError);
        await expect(root.generateKek()).rejects.toBeInstanceOf(RootKeyUnavailableError);
        await expect(root.wrapKey(material)).rejects.toBeInstanceOf(RootKeyUnavailableError);
        await expect(root.health()).rejects.toBeInstanceOf(RootKeyUnavailableError);
        await sleep(600); // past the rate limit: a re-initialization while the directory is still gone
        await expect(root.unwrapKey(wrapped)).rejects.toBeInstanceOf(RootKeyUnavailableError);
      } finally {
        renameSync(away, token.tokensDir);
      }
      const ms = await msUntil(() => root.unwrapKey(wrapped).then((m) => expect(m.equals(material)).toBe(true)), 5000);
      expect(ms).toBeLessThan(5000);
      await expect(root.health()).resolves.toBeUndefined();
      const again = await root.generateKek();
      expect((await root.unwrapKey(again.wrapped)).equals(again.material)).toBe(true);
      expect(countKeys(keyLabel)).toBe(1); // recovery found the root key; it never made a second one
    } finally {
      await root.close();
    }
  });

  it('back after the first re-initialization already failed: the next allowed one brings it back', async () => {
    const keyLabel = `ekm-root-${randomUUID()}`;
    const root = await Pkcs11RootOfTrust.open({ ...token, keyLabel, sessions: 1, reinitializeIntervalMs: 300 });
    const away = `${token.tokensDir}.away`;
    try {
      const { material, wrapped } = await root.generateKek();
      renameSync(token.tokensDir, away);
      try {
        for (let i = 0; i < 5; i++) await expect(root.unwrapKey(wrapped)).rejects.toBeInstanceOf(RootKeyUnavailableError);
      } finally {
        renameSync(away, token.tokensDir);
      }
      expect(await msUntil(() => root.unwrapKey(wrapped).then((m) => expect(m.equals(material)).toBe(true)), 5000)).toBeLessThan(5000);
    } finally {
      await root.close();
    }
  });

  it('re-initializations are rate-limited: 30 failing calls in a burst finalize the library once', async () => {
    const root = await Pkcs11RootOfTrust.open({ ...token, keyLabel: `ekm-root-${randomUUID()}`, sessions: 1, reinitializeIntervalMs: 1500 });
    await sleep(1600); // the limit is per library: let the earlier tests' re-initializations age out
    const lib = loadPkcs11(token.library);
    const finalize = jest.spyOn(lib, 'C_Finalize');
    const away = `${token.tokensDir}.away`;
    try {
      const { wrapped } = await root.generateKek();
      renameSync(token.tokensDir, away);
      try {
        const results = await Promise.allSettled(Array.from({ length: 30 }, () => root.unwrapKey(wrapped)));
        expect(results.every((r) => r.status === 'rejected' && r.reason instanceof RootKeyUnavailableError)).toBe(true);
        expect(finalize).toHaveBeenCalledTimes(1);
      } finally {
        renameSync(away, token.tokensDir);
      }
      // the library's C_Initialize failed while the directory was gone; the next pool build initializes it
      await expect(root.unwrapKey(wrapped)).resolves.toBeInstanceOf(KeyMaterial);
    } finally {
      finalize.mockRestore();
      await root.close();
    }
  });
});

describe('root key missing after recovery', () => {
  it('stays RootKeyUnavailableError (ROOT_KEY_MISSING): no new root key, no fallback', async () => {
    const keyLabel = `ekm-root-${randomUUID()}`;
    const root = await Pkcs11RootOfTrust.open({ ...token, keyLabel, sessions: 1, reinitializeIntervalMs: 100 }); // createIfMissing defaults to true
    try {
      const { material } = await root.generateKek();
      // an HSM admin (or a half-restored backup) removes the root key behind the running service
      const lib = loadPkcs11(token.library);
      const slot = lib.C_GetSlotList(true).find((s) => lib.C_GetTokenInfo(s).label.trimEnd() === token.tokenLabel)!;
      const session = lib.C_OpenSession(slot, pkcs11js.CKF_SERIAL_SESSION | pkcs11js.CKF_RW_SESSION);
      lib.C_FindObjectsInit(session, [{ type: pkcs11js.CKA_LABEL, value: keyLabel }]);
      const [key] = lib.C_FindObjects(session, 1);
      lib.C_FindObjectsFinal(session);
      lib.C_DestroyObject(session, key);
      lib.C_CloseSession(session);

      for (let i = 0; i < 3; i++) {
        await expect(root.wrapKey(material)).rejects.toMatchObject({ name: 'RootKeyUnavailableError', reason: 'ROOT_KEY_MISSING' });
        await sleep(150); // past the rate limit: the re-initialization path does not create one either
      }
      await expect(root.health()).rejects.toBeInstanceOf(RootKeyUnavailableError);
      expect(countKeys(keyLabel)).toBe(0);
    } finally {
      await root.close();
    }
  });
});
