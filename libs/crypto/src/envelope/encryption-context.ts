import { EncryptionContextInvalidError } from '../errors';

export type EncryptionContext = Readonly<Record<string, string>>;

export const MAX_CONTEXT_ENTRIES = 64;
/** Limit on the canonical encoding (AWS KMS allows 8192 characters of context). */
export const MAX_CONTEXT_BYTES = 8192;

/**
 * Canonical bytes of an encryption context, authenticated as AAD:
 * `u32 count || for each entry sorted by UTF-8 key bytes: u32 len(key) || key || u32 len(value) || value`
 * (big-endian lengths). Sorting makes it independent of insertion order; length prefixes make it
 * injective. Strings with lone surrogates are refused because UTF-8 encoding would silently turn
 * them into U+FFFD and two different contexts would collide.
 */
export function canonicalEncryptionContext(context: unknown): Buffer {
  const entries = validEntries(context);
  entries.sort((a, b) => Buffer.compare(a[0], b[0]));
  let size = 4;
  for (const [k, v] of entries) size += 8 + k.length + v.length;
  if (size > MAX_CONTEXT_BYTES) {
    throw new EncryptionContextInvalidError('TOO_LARGE', `encryption context encodes to ${size} bytes; the limit is ${MAX_CONTEXT_BYTES}`);
  }
  const out = Buffer.alloc(size);
  let at = out.writeUInt32BE(entries.length, 0);
  for (const [k, v] of entries) {
    at = out.writeUInt32BE(k.length, at);
    at += k.copy(out, at);
    at = out.writeUInt32BE(v.length, at);
    at += v.copy(out, at);
  }
  return out;
}

/** Validates without encoding; throws EncryptionContextInvalidError. */
export function assertEncryptionContext(context: unknown): asserts context is EncryptionContext {
  canonicalEncryptionContext(context);
}

function validEntries(context: unknown): Array<[Buffer, Buffer]> {
  if (typeof context !== 'object' || context === null || Array.isArray(context)) {
    throw new EncryptionContextInvalidError('NOT_AN_OBJECT', 'encryption context must be an object of string keys and string values');
  }
  const proto = Object.getPrototypeOf(context) as unknown;
  if (proto !== Object.prototype && proto !== null) {
    throw new EncryptionContextInvalidError('NOT_AN_OBJECT', 'encryption context must be a plain object');
  }
  const keys = Reflect.ownKeys(context);
  if (keys.length > MAX_CONTEXT_ENTRIES) {
    throw new EncryptionContextInvalidError('TOO_MANY_ENTRIES', `encryption context has ${keys.length} entries; the limit is ${MAX_CONTEXT_ENTRIES}`);
  }
  return keys.map((key) => {
    if (typeof key !== 'string') throw new EncryptionContextInvalidError('NOT_AN_OBJECT', 'encryption context keys must be strings');
    if (key.length === 0) throw new EncryptionContextInvalidError('EMPTY_KEY', 'encryption context keys must not be empty');
    const desc = Object.getOwnPropertyDescriptor(context, key);
    const value: unknown = desc?.value;
    if (desc?.get !== undefined || typeof value !== 'string') {
      throw new EncryptionContextInvalidError('VALUE_NOT_STRING', `encryption context value for "${safeKey(key)}" must be a string`);
    }
    return [utf8Strict(key, 'key'), utf8Strict(value, key)];
  });
}

function utf8Strict(s: string, where: string): Buffer {
  const bytes = Buffer.from(s, 'utf8');
  if (bytes.toString('utf8') !== s) {
    throw new EncryptionContextInvalidError('MALFORMED_STRING', `encryption context ${where === 'key' ? 'key' : `value for "${safeKey(where)}"`} is not well-formed Unicode`);
  }
  return bytes;
}

// Keys are names chosen by callers (not secrets), but keep messages short and printable.
const safeKey = (k: string) => JSON.stringify(k.slice(0, 64)).slice(1, -1);
