// examples/sdk-quickstart: the README's SDK example. Run: npm run build && EKM_CREDENTIALS=indexer.credentials node dist/examples/sdk-quickstart/main.js
import { CachingDataKeyProvider, Ekm, decryptVector, encryptVector } from '@ekm/client';

async function main(): Promise<void> {
  // Credentials: EKM_CREDENTIALS (a credential file); the SDK logs in, signs every request, renews the session.
  const ekm = await Ekm.connect({ servers: process.env.EKM_NATS_URL ?? 'nats://127.0.0.1:4222' });
  try {
    const context = { collection: 'docs' };
    // A data key: use `plaintext` locally, store `ciphertextBlob` next to your data, forget the plaintext.
    const dk = await ekm.crypto.generateDataKey({ keyId: 'alias/acme-docs', encryptionContext: context });
    const again = await ekm.crypto.decrypt({ ciphertextBlob: dk.ciphertextBlob, encryptionContext: context });
    console.log('data key round trip:', again.plaintext.equals(dk.plaintext));
    dk.plaintext.fill(0);

    // Vector helpers: an embedding sealed under a data key bound to {tenant, collection, asset}.
    const where = { tenant: 'acme', collection: 'docs', asset: 'doc-42' };
    // The caching provider reuses data keys within limits (age, uses, bytes), so an ingester does not call EKM per vector.
    const keys = new CachingDataKeyProvider(ekm.crypto, { encrypt: { maxAgeMs: 60_000 }, decrypt: { maxAgeMs: 60_000 } });
    const sealed = await encryptVector(keys, 'alias/acme-docs', where, new Float32Array([0.12, -0.5, 0.33]));
    const vector = await decryptVector(keys, where, sealed.envelope);
    console.log('vector:', Array.from(vector));
  } finally {
    await ekm.close();
  }
}
void main();
