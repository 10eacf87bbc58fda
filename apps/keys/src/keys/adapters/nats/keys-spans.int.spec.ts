/**
 * Canary for traces (Key service issue, "no span"): every span the keys service makes while generating,
 * encrypting and decrypting carries no DEK, no plaintext and no ciphertext blob — in names, attributes,
 * events or status messages — in raw, hex or base64 form.
 */
import { initTelemetry, type Telemetry } from '@ekm/telemetry';
import { dataOf, startKeysHarness, type Harness } from './keys-admin.test-harness';

const CANARY = Buffer.from('canary-plaintext-7f3a9c1e-do-not-leak');

function forms(b: Buffer): string[] {
  return [b.toString('hex'), b.toString('base64'), b.toString('base64url'), b.toString('latin1')].filter((s) => s.length >= 8);
}

describe('keys service spans carry no material', () => {
  let telemetry: Telemetry;
  let h: Harness;

  beforeAll(async () => {
    telemetry = initTelemetry({ serviceName: 'ekm-keys-test', exporter: 'memory' });
    h = await startKeysHarness();
  });
  afterAll(async () => {
    await h?.close();
    await telemetry?.shutdown();
  });

  it('records server spans for each call, none holding a DEK, the plaintext or a blob', async () => {
    const ctx = { tenant: 'acme', collection: 'docs' };
    const key = dataOf(await h.call<{ keyId: string }>('create-key', { tenant: 'acme', description: 'span canary' }));
    const dk = dataOf(await h.call<{ plaintext: string; ciphertextBlob: string }>('generate-data-key', { keyId: key.keyId, keySpec: 'AES_256', encryptionContext: ctx }));
    const enc = dataOf(await h.call<{ ciphertextBlob: string }>('encrypt', { keyId: key.keyId, plaintext: CANARY.toString('base64'), encryptionContext: ctx }));
    const dec = dataOf(await h.call<{ plaintext: string }>('decrypt', { ciphertextBlob: enc.ciphertextBlob, encryptionContext: ctx }));
    expect(Buffer.from(dec.plaintext, 'base64').equals(CANARY)).toBe(true);
    await telemetry.forceFlush();

    const spans = telemetry.memoryExporter!.getFinishedSpans();
    // The scan below must have something to look at: one server span per call (pg spans are not
    // recorded under jest's module loader; the manual OTLP run in libs/telemetry covers them).
    expect(spans.some((s) => /generate-data-key/.test(s.name))).toBe(true);
    expect(spans.length).toBeGreaterThanOrEqual(4);

    const dump = JSON.stringify(spans.map((s) => ({ name: s.name, attributes: s.attributes, events: s.events, status: s.status, links: s.links })));
    const secrets = [Buffer.from(dk.plaintext, 'base64'), CANARY, Buffer.from(dk.ciphertextBlob, 'base64'), Buffer.from(enc.ciphertextBlob, 'base64')];
    for (const secret of secrets) {
      for (const form of forms(secret)) expect(dump.includes(form)).toBe(false);
    }
    // Sanity: the dump is the real span data (it names the subjects), so a miss above means absence.
    expect(dump).toContain('ekm.v1.keys.decrypt');
  });
});
