/**
 * Canonical JSON of a trail entry (the bytes that are hashed and signed): `JSON.stringify` with object
 * keys sorted by UTF-16 code unit order at every depth, no whitespace, `undefined` members dropped.
 * Only plain data reaches it (strings, finite numbers, booleans, null, arrays, plain objects); anything
 * else is a programmer error.
 */
export type Json = string | number | boolean | null | readonly Json[] | { readonly [k: string]: Json | undefined };

export function canonicalJson(value: Json | undefined): string {
  if (value === null) return 'null';
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'number':
      if (!Number.isFinite(value)) throw new TypeError('canonical JSON has no encoding for a non-finite number');
      return JSON.stringify(value);
    case 'object': {
      if (Array.isArray(value)) return `[${(value as readonly Json[]).map((v) => canonicalJson(v === undefined ? null : v)).join(',')}]`;
      const obj = value as { readonly [k: string]: Json | undefined };
      const keys = Object.keys(obj).filter((k) => obj[k] !== undefined).sort();
      return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(obj[k])}`).join(',')}}`;
    }
    default:
      throw new TypeError(`canonical JSON has no encoding for ${typeof value}`);
  }
}
