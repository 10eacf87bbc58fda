/**
 * buildReceipt over trail rows: the receipt cites the KeyDestroyed entry and the first EpochEnded after
 * it that names the key, and the creation-time commitment of every version; signReceipt's bytes verify.
 */
import { createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify } from 'node:crypto';
import { SignedDestructionReceiptReply } from '@ekm/contracts';
import { buildReceipt, signReceipt, type ReceiptTrailRow } from './destruction-receipt';

const row = (leafIndex: number, action: string, details: object, tenant = 't1'): ReceiptTrailRow => ({
  leafIndex, hash: leafIndex.toString(16).padStart(64, '0'), entry: { action, time: `2026-01-01T00:00:0${leafIndex % 10}.000Z`, tenant, keyId: 'k1', details },
});
const keyRows = [
  row(1, 'KeyCreated', { keyId: 'k1' }),
  row(2, 'KeyVersionAdded', { version: 1, fingerprint: 'aa11', materialRef: 'm1' }),
  row(4, 'KeyVersionAdded', { version: 2, fingerprint: 'bb22', materialRef: 'm2' }),
  row(6, 'KeyDestroyed', { destroyedAt: 'x' }),
];
const ended = (leafIndex: number, destroyedFor: string[]) => row(leafIndex, 'EpochEnded', { epoch: 'e-new', destroyedEpochs: ['e-old'], destroyedFor }, '');

it('cites the destroy, the first roll naming the key, and each version commitment; never material refs', () => {
  const r = buildReceipt('k1', keyRows, [ended(7, ['other']), ended(9, ['k1', 'k2']), ended(11, ['k1'])]);
  if (typeof r === 'string') throw new Error(r);
  expect(r).toEqual({
    v: 1, type: 'ekm.destruction-receipt', keyId: 'k1', tenant: 't1', commitmentScheme: 'ekm-fingerprint/v1',
    versions: [{ version: 1, commitment: 'aa11', createdTrailIndex: 2 }, { version: 2, commitment: 'bb22', createdTrailIndex: 4 }],
    destroyed: { at: keyRows[3]!.entry.time, trailIndex: 6, entryHash: keyRows[3]!.hash },
    epoch: { destroyedEpochs: ['e-old'], newEpoch: 'e-new', at: ended(9, []).entry.time, trailIndex: 9, entryHash: ended(9, []).hash },
  });
  expect(JSON.stringify(r)).not.toContain('m1');
});

it('is NOT_DESTROYED before KeyDestroyed and EPOCH_PENDING before the roll', () => {
  expect(buildReceipt('k1', keyRows.slice(0, 3), [])).toBe('NOT_DESTROYED');
  expect(buildReceipt('k1', keyRows, [ended(3, ['k1']), ended(8, ['k2'])])).toBe('EPOCH_PENDING');
});

it('signs the canonical JSON of the receipt, the same bytes every time', () => {
  const { privateKey } = generateKeyPairSync('ed25519');
  const pub = createPublicKey(createPrivateKey(privateKey.export({ format: 'pem', type: 'pkcs8' })));
  const signer = { sign: (p: string) => sign(null, Buffer.from(p), privateKey), publicKeyRaw: pub.export({ format: 'der', type: 'spki' }).subarray(12), keyId: 'kid' };
  const r = buildReceipt('k1', keyRows, [ended(9, ['k1'])]);
  if (typeof r === 'string') throw new Error(r);
  const a = signReceipt(r, signer);
  expect(signReceipt(r, signer)).toEqual(a);
  expect(JSON.parse(a.payload)).toEqual(r);
  expect(a.payload.startsWith('{"commitmentScheme"')).toBe(true); // sorted keys
  expect(verify(null, Buffer.from(a.payload), pub, Buffer.from(a.signature, 'base64'))).toBe(true);
  expect(SignedDestructionReceiptReply.parse(a)).toEqual(a); // the reply contract, strict
});
