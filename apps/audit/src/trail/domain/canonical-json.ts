/**
 * Canonical JSON of a trail entry (the bytes that are hashed and signed): the JSON Canonicalization
 * Scheme, RFC 8785 (JCS), serialised by the `canonicalize` package (by an author of the RFC): object
 * keys sorted by UTF-16 code units at every depth, no whitespace, ECMAScript number and string
 * serialisation, `undefined` members dropped.
 *
 * The guard in front of it is EKM's own input rule, not part of the encoding: only plain data is
 * hashed (strings, finite numbers, booleans, null, arrays, plain objects). The package would call
 * `toJSON`, skip symbols and write a function member as `"k":undefined`; a trail entry holding any of
 * those is a programmer error, so it throws instead of hashing something no verifier can rebuild.
 */
import canonicalize from 'canonicalize';

export type Json = string | number | boolean | null | readonly Json[] | { readonly [k: string]: Json | undefined };

export function canonicalJson(value: Json | undefined): string {
  assertPlainJson(value === undefined ? null : value);
  return canonicalize(value === undefined ? null : value) as string;
}

function assertPlainJson(value: unknown): void {
  if (value === null) return;
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return;
    case 'number':
      if (!Number.isFinite(value)) throw new TypeError('canonical JSON has no encoding for a non-finite number');
      return;
    case 'object': {
      if (Array.isArray(value)) {
        for (const v of value as readonly unknown[]) if (v !== undefined) assertPlainJson(v);
        return;
      }
      const proto = Object.getPrototypeOf(value) as unknown;
      if (proto !== Object.prototype && proto !== null) throw new TypeError('canonical JSON encodes plain objects only');
      for (const v of Object.values(value as Record<string, unknown>)) if (v !== undefined) assertPlainJson(v);
      return;
    }
    default:
      throw new TypeError(`canonical JSON has no encoding for ${typeof value}`);
  }
}
