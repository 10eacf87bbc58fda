/** The typed clients' wire mapping (base64 on the wire, Buffers in the SDK) and the BYOK wrap helper. */
import { randomBytes } from 'node:crypto';
import { generateImportWrappingKeyPair, unwrapImportedMaterial } from '@ekm/crypto';
import { CryptoClient } from './crypto.client';
import { AuditClient } from './audit.client';
import { KeysClient, type Caller } from './keys.client';
import { RotationClient } from './rotation.client';
import { TenantsClient } from './tenants.client';
import { wrapKeyMaterial } from './wrap-key-material';

function recorder(reply: unknown): { caller: Caller; sent: Array<{ op: string; body: unknown; opts: unknown }> } {
  const sent: Array<{ op: string; body: unknown; opts: unknown }> = [];
  const caller: Caller = { call: async <T>(_s: string, op: string, body: unknown, opts?: unknown) => { sent.push({ op, body, opts }); return reply as T; } } as Caller;
  return { caller, sent };
}

describe('CryptoClient', () => {
  it('sends plaintext as base64 and returns Buffers', async () => {
    const { caller, sent } = recorder({ keyId: 'k', keyVersion: 1, ciphertextBlob: 'YmxvYg==' });
    const r = await new CryptoClient(caller).encrypt({ keyId: 'alias/a', plaintext: Buffer.from('hi'), encryptionContext: { c: 'd' } });
    expect(sent).toEqual([{ op: 'encrypt', body: { keyId: 'alias/a', plaintext: 'aGk=', encryptionContext: { c: 'd' } }, opts: undefined }]);
    expect(r).toEqual({ keyId: 'k', keyVersion: 1, ciphertextBlob: Buffer.from('blob') });
  });
  it('decodes data keys and decrypt results', async () => {
    const dk = await new CryptoClient(recorder({ keyId: 'k', keyVersion: 2, plaintext: 'AAE=', ciphertextBlob: 'Yg==' }).caller).generateDataKey({ keyId: 'k' });
    expect(dk).toEqual({ keyId: 'k', keyVersion: 2, plaintext: Buffer.from([0, 1]), ciphertextBlob: Buffer.from('b') });
    const { caller, sent } = recorder({ keyId: 'k', keyVersion: 2, plaintext: 'aGk=' });
    expect((await new CryptoClient(caller).decrypt({ ciphertextBlob: Buffer.from('b') })).plaintext).toEqual(Buffer.from('hi'));
    expect(sent[0].body).toEqual({ ciphertextBlob: 'Yg==' });
  });
  it('maps batch items one by one, keeping per-item errors', async () => {
    const { caller, sent } = recorder({ items: [{ ok: true, keyId: 'k', keyVersion: 1, plaintext: 'aGk=' }, { ok: false, error: { code: 'EKM_INVALID_CIPHERTEXT', message: 'ciphertext is invalid' } }] });
    const r = await new CryptoClient(caller).decryptBatch([{ ciphertextBlob: Buffer.from('a') }, { ciphertextBlob: Buffer.from('b') }]);
    expect(sent[0].body).toEqual({ items: [{ ciphertextBlob: 'YQ==' }, { ciphertextBlob: 'Yg==' }] });
    expect(r).toEqual([{ ok: true, value: { keyId: 'k', keyVersion: 1, plaintext: Buffer.from('hi') } }, { ok: false, error: { code: 'EKM_INVALID_CIPHERTEXT', message: 'ciphertext is invalid' } }]);
  });
  it('MACs travel as base64', async () => {
    const { caller, sent } = recorder({ keyId: 'k', keyVersion: 1, macValid: true, macAlgorithm: 'HMAC_SHA_256' });
    await new CryptoClient(caller).verifyMac({ keyId: 'k', message: Buffer.from('m'), mac: Buffer.from([1]) });
    expect(sent[0].body).toEqual({ keyId: 'k', message: 'bQ==', mac: 'AQ==' });
  });
});

describe('KeysClient', () => {
  it('passes the idempotency options through and omits absent optional fields', async () => {
    const { caller, sent } = recorder({});
    const keys = new KeysClient(caller);
    await keys.scheduleKeyDeletion('k', undefined, { requestId: 'r-1' });
    await keys.enableKeyRotation('k', 90);
    expect(sent).toEqual([
      { op: 'schedule-key-deletion', body: { keyId: 'k' }, opts: { requestId: 'r-1' } },
      { op: 'enable-key-rotation', body: { keyId: 'k', periodDays: 90 }, opts: undefined },
    ]);
  });
  it('decodes import parameters and encodes imported material', async () => {
    const { caller, sent } = recorder({ keyId: 'k', publicKey: 'AQI=', importToken: 'dG9r', wrappingAlgorithm: 'RSAES_OAEP_SHA_256', wrappingKeySpec: 'RSA_3072', parametersValidTo: 't', expiresAt: 't' });
    const keys = new KeysClient(caller);
    const p = await keys.getParametersForImport('k', 'RSAES_OAEP_SHA_256', 'RSA_3072');
    expect(p.publicKey).toEqual(Buffer.from([1, 2]));
    expect(p.importToken).toEqual(Buffer.from('tok'));
    await keys.importKeyMaterial('k', p.importToken, Buffer.from([9]));
    expect(sent[1]).toEqual({ op: 'import-key-material', body: { keyId: 'k', importToken: 'dG9r', encryptedKeyMaterial: 'CQ==' }, opts: undefined });
  });
});

describe('TenantsClient, RotationClient, AuditClient (bodies typed by the contracts, wire-contract.ts)', () => {
  it('sends the tenant beside the seal input, and the inputs as they are', async () => {
    const { caller, sent } = recorder({});
    await new TenantsClient(caller).sealTenant('acme', { reason: 'incident', unsealSecret: 's'.repeat(16) });
    await new RotationClient(caller).rewrapStatus({ keyId: 'k', version: 2 });
    await new AuditClient(caller).verify();
    await new AuditClient(caller).destructionReceipt('k');
    expect(sent).toEqual([
      { op: 'seal-tenant', body: { tenant: 'acme', reason: 'incident', unsealSecret: 's'.repeat(16) }, opts: undefined },
      { op: 'rewrap-status', body: { keyId: 'k', version: 2 }, opts: undefined },
      { op: 'verify', body: {}, opts: { maxAttempts: 1 } },
      { op: 'destruction-receipt', body: { keyId: 'k' }, opts: undefined },
    ]);
  });
});

describe('wrapKeyMaterial', () => {
  it.each(['RSAES_OAEP_SHA_256', 'RSA_AES_KEY_WRAP_SHA_256'] as const)('%s output is what the service unwraps (DER and PEM public keys)', async (algorithm) => {
    const pair = await generateImportWrappingKeyPair('RSA_3072');
    const der = Buffer.from(pair.publicKey, 'base64');
    const pem = Buffer.from(`-----BEGIN PUBLIC KEY-----\n${pair.publicKey.match(/.{1,64}/g)!.join('\n')}\n-----END PUBLIC KEY-----\n`);
    for (const pub of [der, pem]) {
      const material = randomBytes(32);
      const out = unwrapImportedMaterial({ algorithm, privateKey: pair.privateKey, encryptedMaterial: wrapKeyMaterial(pub, algorithm, material) });
      expect(out.use((b) => b.equals(material))).toBe(true);
    }
  });
  it('refuses a non-RSA public key and an unknown algorithm', async () => {
    const { generateKeyPairSync } = await import('node:crypto');
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256', publicKeyEncoding: { type: 'spki', format: 'der' }, privateKeyEncoding: { type: 'pkcs8', format: 'der' } });
    expect(() => wrapKeyMaterial(ec.publicKey, 'RSAES_OAEP_SHA_256', randomBytes(32))).toThrow(/must be RSA, got ec/);
    const pair = await generateImportWrappingKeyPair('RSA_3072');
    expect(() => wrapKeyMaterial(Buffer.from(pair.publicKey, 'base64'), 'NOPE' as never, randomBytes(32))).toThrow(/unsupported wrapping algorithm/);
  });
});
