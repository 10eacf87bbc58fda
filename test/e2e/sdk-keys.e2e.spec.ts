/**
 * The SDK against a real keys service (child process, signed requests): every keys operation through
 * its typed method, each contract error code the keys service can return surfacing as an EkmError
 * with that code, and retries across a SIGTERM + restart of the service (a call issued in the gap
 * succeeds; a retried CreateKey with the same requestId happens once).
 */
import { randomUUID, createPublicKey, randomBytes } from 'node:crypto';
import { connect } from '@nats-io/transport-node';
import { BusErrorCode } from '@ekm/contracts';
import { Ekm, EkmError, wrapKeyMaterial } from '@ekm/client';
import { startSdkStack, type SdkStack } from './sdk.support';
import { scaled } from '../support/wait-for';

jest.setTimeout(scaled(60_000)); // scaled with the load (test/support/wait-for.ts)

let stack: SdkStack;
let ekm: Ekm;
const tenant = `sdk-${randomUUID().slice(0, 8)}`;
const ctx = { collection: 'docs' };

beforeAll(async () => {
  stack = await startSdkStack();
  await stack.startKeys();
  ekm = await stack.connect({ timeoutMs: 5000 });
});
afterAll(async () => {
  await ekm?.close();
  await stack?.stop();
});

/** The EkmError code a call rejects with (fails when it resolves or throws something else). */
async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(EkmError);
    return (e as EkmError).code;
  }
  throw new Error('expected the call to fail');
}

describe('every keys operation through the SDK', () => {
  it('lifecycle, aliases, tags, rotation settings, deletion', async () => {
    const k = await ekm.keys.createKey({ tenant, description: 'sdk', tags: { env: 'test' }, requiredContext: ctx });
    expect(k).toMatchObject({ tenant, status: 'Enabled', primaryVersion: 1, requiredContext: ctx });
    expect((await ekm.keys.describeKey(k.keyId)).keyId).toBe(k.keyId);
    expect((await ekm.keys.createAlias(k.keyId, `alias/${tenant}-a`)).aliases).toEqual([`alias/${tenant}-a`]);
    expect((await ekm.keys.describeKey(`alias/${tenant}-a`)).keyId).toBe(k.keyId);
    expect((await ekm.keys.listKeys({ tenant })).keys.map((x) => x.keyId)).toContain(k.keyId);
    expect((await ekm.keys.tagKey(k.keyId, { team: 'search' })).tags).toEqual({ env: 'test', team: 'search' });
    expect((await ekm.keys.untagKey(k.keyId, ['team'])).tags).toEqual({ env: 'test' });
    expect((await ekm.keys.rotateKey(k.keyId)).primaryVersion).toBe(2);
    expect((await ekm.keys.listKeyVersions(k.keyId)).map((v) => v.version)).toEqual([1, 2]);
    expect((await ekm.keys.enableKeyRotation(k.keyId, 30)).rotation).toMatchObject({ enabled: true, periodDays: 30 });
    expect((await ekm.keys.getKeyRotationStatus(k.keyId)).rotation.enabled).toBe(true);
    expect((await ekm.keys.disableKeyRotation(k.keyId)).rotation.enabled).toBe(false);
    expect((await ekm.keys.disableKey(k.keyId)).status).toBe('Disabled');
    expect((await ekm.keys.enableKey(k.keyId)).status).toBe('Enabled');
    expect((await ekm.keys.deleteAlias(k.keyId, `alias/${tenant}-a`)).aliases).toEqual([]);
    expect((await ekm.keys.scheduleKeyDeletion(k.keyId, 0)).status).toBe('PendingDeletion');
    expect((await ekm.keys.cancelKeyDeletion(k.keyId)).status).toBe('Disabled');
    await ekm.keys.scheduleKeyDeletion(k.keyId, 0);
    expect((await ekm.keys.destroyKey(k.keyId)).status).toBe('Destroyed');
    const r = await ekm.keys.createKey({ tenant });
    expect((await ekm.keys.revokeKey(r.keyId, 'sdk e2e')).status).toBe('Compromised');
  });

  it('data plane: data keys, encrypt/decrypt, re-encrypt, batches, MACs', async () => {
    const k = await ekm.keys.createKey({ tenant, requiredContext: ctx });
    const dk = await ekm.crypto.generateDataKey({ keyId: k.keyId, encryptionContext: ctx });
    expect(dk.plaintext).toHaveLength(32);
    expect((await ekm.crypto.decrypt({ ciphertextBlob: dk.ciphertextBlob, encryptionContext: ctx })).plaintext.equals(dk.plaintext)).toBe(true);
    const wo = await ekm.crypto.generateDataKeyWithoutPlaintext({ keyId: k.keyId, encryptionContext: ctx, numberOfBytes: 16 });
    expect('plaintext' in wo).toBe(false);
    const ct = await ekm.crypto.encrypt({ keyId: k.keyId, plaintext: Buffer.from('vectors'), encryptionContext: ctx });
    await ekm.keys.rotateKey(k.keyId);
    const re = await ekm.crypto.reEncrypt({ ciphertextBlob: ct.ciphertextBlob, sourceEncryptionContext: ctx, destinationEncryptionContext: ctx });
    expect([re.sourceKeyVersion, re.keyVersion]).toEqual([1, 2]);
    expect((await ekm.crypto.decrypt({ ciphertextBlob: re.ciphertextBlob, encryptionContext: ctx })).plaintext.toString()).toBe('vectors');
    const batch = await ekm.crypto.generateDataKeyBatch([{ keyId: k.keyId, encryptionContext: ctx }, { keyId: randomUUID(), encryptionContext: ctx }]);
    expect(batch.map((b) => b.ok)).toEqual([true, false]);
    expect(batch[1]).toMatchObject({ ok: false, error: { code: BusErrorCode.KeyNotFound } });
    const first = batch[0];
    if (!first.ok) throw new Error('first item failed');
    const dec = await ekm.crypto.decryptBatch([{ ciphertextBlob: first.value.ciphertextBlob, encryptionContext: ctx }]);
    expect(dec[0].ok).toBe(true);
    const reb = await ekm.crypto.reEncryptBatch([{ ciphertextBlob: ct.ciphertextBlob, sourceEncryptionContext: ctx, destinationEncryptionContext: ctx }]);
    expect(reb[0].ok).toBe(true);
    const m = await ekm.keys.createKey({ tenant, spec: 'HMAC_256' });
    const mac = await ekm.crypto.generateMac({ keyId: m.keyId, message: Buffer.from('m') });
    expect((await ekm.crypto.verifyMac({ keyId: m.keyId, message: Buffer.from('m'), mac: mac.mac })).macValid).toBe(true);
    expect((await ekm.crypto.verifyMac({ keyId: m.keyId, message: Buffer.from('x'), mac: mac.mac })).macValid).toBe(false);
  });

  it('BYOK: import parameters, wrapped material, import', async () => {
    const k = await ekm.keys.createKey({ tenant, origin: 'EXTERNAL' });
    expect(k.status).toBe('PendingImport');
    const p = await ekm.keys.getParametersForImport(k.keyId);
    const spki = createPublicKey({ key: p.publicKey, format: 'der', type: 'spki' }).export({ format: 'der', type: 'spki' });
    const wrapped = wrapKeyMaterial(spki, 'RSAES_OAEP_SHA_256', randomBytes(32));
    const imported = await ekm.keys.importKeyMaterial(k.keyId, p.importToken, wrapped);
    expect(imported.status).toBe('Enabled');
    expect(await codeOf(ekm.keys.importKeyMaterial(k.keyId, p.importToken, wrapped))).toBe(BusErrorCode.ImportTokenInvalid);
  });
});

describe('per-version lifecycle through the SDK', () => {
  it('disables (forced past the re-wrap guard), re-enables, then destroys an old version', async () => {
    const k = await ekm.keys.createKey({ tenant });
    const old = await ekm.crypto.encrypt({ keyId: k.keyId, plaintext: Buffer.from('v1 data') });
    await ekm.keys.rotateKey(k.keyId);
    const disabled = await ekm.keys.disableKeyVersion(k.keyId, 1, { force: true });
    expect(disabled.versions.find((v) => v.version === 1)?.status).toBe('Disabled');
    expect(await codeOf(ekm.crypto.decrypt({ ciphertextBlob: old.ciphertextBlob }))).toBe(BusErrorCode.KeyNotActive);
    await ekm.keys.enableKeyVersion(k.keyId, 1);
    expect((await ekm.crypto.decrypt({ ciphertextBlob: old.ciphertextBlob })).plaintext.toString()).toBe('v1 data');
    await ekm.keys.disableKeyVersion(k.keyId, 1, { force: true });
    const destroyed = await ekm.keys.destroyKeyVersion(k.keyId, 1, { force: true });
    expect(destroyed.versions.find((v) => v.version === 1)?.status).toBe('Destroyed');
    expect(await codeOf(ekm.crypto.decrypt({ ciphertextBlob: old.ciphertextBlob }))).toBe(BusErrorCode.KeyNotActive);
  });
});

describe('error mapping: each contract code the keys service returns is an EkmError with that code', () => {
  it('maps service rejections', async () => {
    const k = await ekm.keys.createKey({ tenant, requiredContext: ctx });
    const other = await ekm.keys.createKey({ tenant });
    await ekm.keys.createAlias(other.keyId, `alias/${tenant}-taken`);
    const ct = await ekm.crypto.encrypt({ keyId: k.keyId, plaintext: Buffer.from('x'), encryptionContext: ctx });
    expect(await codeOf(ekm.keys.createKey({ tenant: '' }))).toBe(BusErrorCode.Validation);
    expect(await codeOf(ekm.keys.describeKey(randomUUID()))).toBe(BusErrorCode.KeyNotFound);
    expect(await codeOf(ekm.crypto.decrypt({ ciphertextBlob: Buffer.from('not a blob at all, really'), encryptionContext: ctx }))).toBe(BusErrorCode.InvalidCiphertext);
    expect(await codeOf(ekm.crypto.decrypt({ ciphertextBlob: ct.ciphertextBlob, encryptionContext: { collection: 'other' } }))).toBe(BusErrorCode.ContextMismatch);
    expect(await codeOf(ekm.keys.createAlias(k.keyId, `alias/${tenant}-taken`))).toBe(BusErrorCode.Conflict);
    expect(await codeOf(ekm.crypto.generateMac({ keyId: k.keyId, message: Buffer.from('m') }))).toBe(BusErrorCode.Unsupported);
    expect(await codeOf(ekm.keys.getParametersForImport(k.keyId))).toBe(BusErrorCode.Unsupported);
    expect(await codeOf(ekm.keys.disableKeyVersion(k.keyId, 1, { force: true }))).toBe(BusErrorCode.PrimaryVersionLocked);
    expect(await codeOf(ekm.keys.disableKeyVersion(k.keyId, 9, { force: true }))).toBe(BusErrorCode.VersionNotFound);
    expect(await codeOf(ekm.crypto.encrypt({ keyId: k.keyId, plaintext: Buffer.alloc(300 * 1024), encryptionContext: ctx }))).toBe(BusErrorCode.PayloadTooLarge);
    await ekm.keys.disableKey(k.keyId);
    expect(await codeOf(ekm.crypto.encrypt({ keyId: k.keyId, plaintext: Buffer.from('x'), encryptionContext: ctx }))).toBe(BusErrorCode.KeyNotActive);
  });

  it('maps an unsigned request (EKM_UNAUTHENTICATED), no responder (EKM_UNAVAILABLE) and a silent responder (EKM_TIMEOUT)', async () => {
    const unsigned = await Ekm.connect({ servers: stack.natsUrl, maxAttempts: 1 });
    const nc = await connect({ servers: stack.natsUrl });
    try {
      expect(await codeOf(unsigned.keys.listKeys({ tenant }))).toBe(BusErrorCode.Unauthenticated);
      // Not retriable: a refused credential does not get better by retrying.
      expect(new EkmError({ code: BusErrorCode.Unauthenticated, message: '' }).retriable).toBe(false);
      expect(await codeOf(ekm.client.call('audit', 'query', {}, { maxAttempts: 1 }))).toBe(BusErrorCode.Unavailable);
      nc.subscribe('ekm.v1.rotation.status', { callback: () => undefined }); // listens, never replies
      await nc.flush();
      const t0 = Date.now();
      expect(await codeOf(ekm.client.call('rotation', 'status', {}, { maxAttempts: 2, timeoutMs: 200 }))).toBe(BusErrorCode.Timeout);
      expect(Date.now() - t0).toBeGreaterThanOrEqual(400); // two attempts of 200 ms: timeouts are retried
    } finally {
      await unsigned.close();
      await nc.close();
    }
  });
});

describe('retries across a keys service restart', () => {
  it('a call issued while the service is down succeeds after it restarts; in-flight calls at SIGTERM complete', async () => {
    const k = await ekm.keys.createKey({ tenant, requiredContext: ctx });
    // Calls in flight when SIGTERM arrives are drained (answered) or retried against the restarted service.
    const inFlight = Array.from({ length: 20 }, () => ekm.crypto.generateDataKey({ keyId: k.keyId, encryptionContext: ctx }, { maxAttempts: 30 }));
    await stack.stopKeys();
    // Issued in the gap: no responder -> EKM_UNAVAILABLE (retriable) -> backoff -> the restarted service answers.
    // 30 attempts (about 27 s of backoff): a restart on a loaded CI machine can take several seconds.
    const gap = ekm.crypto.generateDataKey({ keyId: k.keyId, encryptionContext: ctx }, { maxAttempts: 30 });
    // Intentional: the call must meet the gap (no responder) at least once before the service is back; no condition to wait on.
    await new Promise((r) => setTimeout(r, scaled(300)));
    await stack.startKeys();
    const dk = await gap;
    expect(dk.keyId).toBe(k.keyId);
    expect((await Promise.allSettled(inFlight)).map((s) => s.status)).toEqual(Array(20).fill('fulfilled'));
  });

  it('a retried CreateKey with the same requestId happens once, including across the restart', async () => {
    const t = `${tenant}-once`;
    const requestId = randomUUID();
    await stack.stopKeys();
    const first = ekm.keys.createKey({ tenant: t, description: 'once' }, { requestId, maxAttempts: 30 });
    // Intentional, as above: the first attempts must find no keys service.
    await new Promise((r) => setTimeout(r, scaled(200)));
    await stack.startKeys();
    const a = await first;
    // The caller saw no reply (say, a timeout) and retries with the same idempotency key.
    const b = await ekm.keys.createKey({ tenant: t, description: 'once' }, { requestId });
    expect(b.keyId).toBe(a.keyId);
    expect((await ekm.keys.listKeys({ tenant: t })).keys).toHaveLength(1);
    // A new requestId is a new command.
    await ekm.keys.createKey({ tenant: t, description: 'twice' });
    expect((await ekm.keys.listKeys({ tenant: t })).keys).toHaveLength(2);
  });
});
