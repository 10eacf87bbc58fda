import { InvalidKeyLengthError } from '../errors';
import { KeyMaterial } from '../key-material';
import { MAX_DATA_KEY_BYTES, MIN_DATA_KEY_BYTES } from '@ekm/contracts';

// The bounds are the request contract's (one rule for the schema and the generator).
export { MAX_DATA_KEY_BYTES, MIN_DATA_KEY_BYTES };

/** GenerateDataKey's size: `AES_256` (32 bytes) or an explicit 1–1024 bytes (KMS `NumberOfBytes`). */
export type DataKeySpec = 'AES_256' | { numberOfBytes: number };

export function dataKeyLength(spec: DataKeySpec): number {
  if (spec === 'AES_256') return 32;
  const n = spec.numberOfBytes;
  if (!Number.isInteger(n) || n < MIN_DATA_KEY_BYTES || n > MAX_DATA_KEY_BYTES) {
    throw new InvalidKeyLengthError(`a data key must be ${MIN_DATA_KEY_BYTES}-${MAX_DATA_KEY_BYTES} bytes, got ${String(n)}`);
  }
  return n;
}

/** A fresh random data key. The caller owns (and disposes) it. */
export function generateDataKey(spec: DataKeySpec): KeyMaterial {
  return KeyMaterial.random(dataKeyLength(spec));
}
