/**
 * The hostile bodies of hostile-input.e2e.spec.ts: one plausible body per subject, then every top-level
 * field replaced by each poison of its kind (strings: NUL, lone surrogates, 300k characters; numbers:
 * negative, fractional, unsafe, beyond int4 for versions; any field: every other JSON type), plus
 * poisoned keys, unknown fields and blobs whose header names a version past Postgres integer.
 */
import type { ServiceName } from '@ekm/contracts';

export interface HostileBody {
  readonly service: ServiceName;
  readonly op: string;
  readonly what: string;
  readonly body: unknown;
  /** The one code this case must get, where it is known. */
  readonly expect?: string;
}

/** A copy of `blob` whose header claims key version `v`, or with byte 21 bit-flipped (version + 2^31). */
export function poisonedBlob(blob: string, v: number | 'flip21'): string {
  const b = Buffer.from(blob, 'base64');
  if (v === 'flip21') b[21] ^= 0x80;
  else b.writeUInt32BE(v, 21);
  return b.toString('base64');
}

const X = Buffer.from('x').toString('base64');

/** One plausible body per subject (status subjects take no body and are left out). */
function bases(keyId: string, blob: string): Record<string, Record<string, unknown>> {
  const ctx = { collection: 'docs' };
  const principalId = 'p-00000000000000000000';
  return {
    'keys.create-key': { tenant: 'acme', description: 'd' },
    'keys.describe-key': { keyId },
    'keys.list-keys': { tenant: 'acme', limit: 10 },
    'keys.list-key-versions': { keyId },
    'keys.create-alias': { keyId, alias: 'fuzz' },
    'keys.delete-alias': { keyId, alias: 'fuzz' },
    'keys.tag-key': { keyId, tags: { a: 'b' } },
    'keys.untag-key': { keyId, tagKeys: ['a'] },
    'keys.generate-data-key': { keyId, encryptionContext: ctx, numberOfBytes: 32 },
    'keys.generate-data-key-without-plaintext': { keyId, encryptionContext: ctx, numberOfBytes: 32 },
    'keys.encrypt': { keyId, plaintext: X, encryptionContext: ctx },
    'keys.decrypt': { ciphertextBlob: blob, encryptionContext: ctx },
    'keys.re-encrypt': { ciphertextBlob: blob, sourceEncryptionContext: ctx, destinationKeyId: keyId },
    'keys.generate-data-key-batch': { items: [{ keyId, encryptionContext: ctx }], withPlaintext: false },
    'keys.decrypt-batch': { items: [{ ciphertextBlob: blob, encryptionContext: ctx }] },
    'keys.re-encrypt-batch': { items: [{ ciphertextBlob: blob, sourceEncryptionContext: ctx }] },
    'keys.generate-mac': { keyId, message: X },
    'keys.verify-mac': { keyId, message: X, mac: X },
    'keys.rotate-key': { keyId, expectedVersion: 1 },
    'keys.enable-key-rotation': { keyId, periodDays: 30 },
    'keys.disable-key-rotation': { keyId },
    'keys.get-key-rotation-status': { keyId },
    'keys.enable-key': { keyId },
    'keys.disable-key': { keyId },
    'keys.revoke-key': { keyId, reason: 'r' },
    'keys.schedule-key-deletion': { keyId, pendingWindowDays: 7 },
    'keys.cancel-key-deletion': { keyId },
    'keys.destroy-key': { keyId, expectedVersion: 1 },
    'keys.get-parameters-for-import': { keyId },
    'keys.import-key-material': { keyId, importToken: X, encryptedKeyMaterial: X },
    'keys.expire-import-token': { keyId, tokenId: 't' },
    'keys.disable-key-version': { keyId, version: 1 },
    'keys.enable-key-version': { keyId, version: 1 },
    'keys.destroy-key-version': { keyId, version: 1, force: false },
    // A tenant of its own: a variant that happened to pass must not seal the tenant the others use.
    'keys.seal-tenant': { tenant: 'fuzz-seal', reason: 'r' },
    'keys.unseal-tenant': { tenant: 'fuzz-seal', reason: 'r' },
    'keys.get-tenant-seal-status': { tenant: 'fuzz-seal' },
    'keys.describe-tenant-root': { tenant: 'fuzz-root' },
    'keys.set-tenant-root-external': { tenant: 'fuzz-root', endpoint: 'https://127.0.0.1:1', region: 'eu-west-1', keyId: 'k', credentials: { accessKeyId: 'AKIAFUZZ', secretAccessKey: 'fuzz-secret' } },
    'keys.update-key-description': { keyId, description: 'd' },
    'keys.mark-key-version-compromised': { keyId, version: 1, reason: 'r' },
    'policy.login': { principalId, credentialId: 'c', timestamp: 1, nonce: 'AAAAAAAAAAAAAAAA', signature: 'A'.repeat(86) },
    'policy.decide': { principalId, action: 'keys:Encrypt', resource: { keyId, tenant: 'acme' } },
    'policy.simulate': { principalId, action: 'keys:Encrypt', resource: { keyId, tenant: 'acme' }, now: '2026-01-01T00:00:00Z' },
    'policy.create-principal': { tenant: 'acme', roles: ['app'], name: 'n' },
    'policy.list-principals': { tenant: 'acme' },
    'policy.get-principal': { principalId },
    'policy.revoke-principal': { principalId, reason: 'r' },
    'policy.rotate-credential': { principalId, graceSeconds: 60 },
    'policy.revoke-credential': { principalId, credentialId: 'c', reason: 'r' },
    'policy.put-policy': { policyId: 'fuzz', tenant: 'acme', document: { statements: [{ effect: 'allow', roles: ['app'], actions: ['keys:Encrypt'], resources: ['*'] }] }, expectedVersion: 0 },
    'policy.get-policy': { policyId: 'fuzz' },
    'policy.list-policies': { tenant: 'acme' },
    'policy.delete-policy': { policyId: 'fuzz' },
    'policy.create-access-key': { principalId },
    'policy.list-access-keys': { principalId },
    'policy.delete-access-key': { accessKeyId: 'AKIAAAAAAAAAAAAAAAAA', reason: 'r' },
    'policy.access-key-login': { accessKeyId: 'AKIAAAAAAAAAAAAAAAAA', date: '20260101', region: 'us-east-1', service: 'kms', stringToSign: 's', signature: '0'.repeat(64) },
    'rotation.rewrap-status': { keyId, version: 1, limit: 10 },
    'rotation.check-version-retirement': { keyId, version: 1 },
    'audit.query': { keyId, tenant: 'acme', limit: 10 },
    'audit.verify': { progressSubject: '_INBOX.fuzz' },
    'audit.report': { from: '2026-01-01T00:00:00Z', to: '2026-02-01T00:00:00Z', tenant: 'acme' },
    'audit.destruction-receipt': { keyId },
  };
}

const STRINGS: readonly [string, string][] = [['NUL', '\u0000'], ['NUL inside', 'ok\u0000ok'], ['lone high surrogate', 'a\ud800'], ['lone low surrogate', '\udc00b'], ['300k characters', 'x'.repeat(300_000)]];
const numbersFor = (field: string): readonly [string, number][] => [
  ['negative', -1], ['fractional', 1.5], ['unsafe integer', 2 ** 53 + 2], ['1e308', 1e308],
  ...(/version/i.test(field) ? [['2^31', 2 ** 31], ['2^31+1', 2 ** 31 + 1], ['2^32+1', 2 ** 32 + 1]] as [string, number][] : []),
];
const TYPES: readonly [string, unknown][] = [['null', null], ['true', true], ['number', 7], ['string', 'str'], ['array', ['x']], ['object', { x: 1 }]];
const kind = (v: unknown): string => (v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v);
const sameKind = (a: unknown, b: unknown): boolean => kind(a) === kind(b) || (kind(a) === 'object' && kind(b) === 'object');

export function hostileBodies(o: { keyId: string; blob: string }): HostileBody[] {
  const out: HostileBody[] = [];
  for (const [name, base] of Object.entries(bases(o.keyId, o.blob))) {
    const [service, op] = name.split('.') as [ServiceName, string];
    const add = (what: string, body: unknown, expect?: string): void => void out.push({ service, op, what, body, ...(expect ? { expect } : {}) });
    for (const [field, value] of Object.entries(base)) {
      for (const [w, s] of STRINGS) add(`${field}=${w}`, { ...base, [field]: s });
      for (const [w, n] of numbersFor(field)) if (typeof value === 'number' || /version/i.test(field)) add(`${field}=${w}`, { ...base, [field]: n });
      for (const [w, t] of TYPES) if (!sameKind(value, t)) add(`${field}=${w}`, { ...base, [field]: t });
      if (kind(value) === 'object') {
        add(`${field} with a NUL key`, { ...base, [field]: { ...(value as object), 'k\u0000': 'v' } });
        add(`${field} with a lone-surrogate value`, { ...base, [field]: { ...(value as object), k: '\ud83d' } });
      }
      if (kind(value) === 'array' && kind((value as unknown[])[0]) === 'object') {
        const item = (value as Record<string, unknown>[])[0];
        for (const k of Object.keys(item)) add(`${field}[0].${k}=NUL`, { ...base, [field]: [{ ...item, [k]: 'a\u0000' }] });
      }
    }
    add('an unknown field', { ...base, surprise: 1 });
    add('a NUL field name', { ...base, '\u0000': 'x' });
    add('a lone-surrogate field name', { ...base, '\udfff': 'x' });
    add('a tenant of 65 characters', { ...base, tenant: 'x'.repeat(65) });
    add('an emoji tenant', { ...base, tenant: 'acme😀' });
    add('a JSON array body', [base]);
    add('a JSON string body', JSON.stringify('\u0000'));
    for (const blobField of ['ciphertextBlob']) {
      if (!(blobField in base)) continue;
      for (const v of [2 ** 31, 2 ** 31 + 1, 0xffffffff]) add(`${blobField} naming version ${v}`, { ...base, [blobField]: poisonedBlob(o.blob, v) }, 'EKM_INVALID_CIPHERTEXT');
      add(`${blobField} with byte 21 bit-flipped`, { ...base, [blobField]: poisonedBlob(o.blob, 'flip21') }, 'EKM_INVALID_CIPHERTEXT');
    }
    if ('items' in base) {
      const item = (base.items as Record<string, unknown>[])[0];
      if ('ciphertextBlob' in item) add('items[0] naming version 2^31+1', { ...base, items: [{ ...item, ciphertextBlob: poisonedBlob(o.blob, 2 ** 31 + 1) }] });
    }
  }
  return out;
}
