/**
 * Argument parsers for commander options: `k=v` maps (context, tags), bounded integers, base64, and
 * the mutually exclusive input sources (`--in FILE | --text S | --blob B64`). Pure apart from reading
 * the named file; every failure is a usage error that names the option.
 */
import { readFileSync } from 'node:fs';
import { usageError } from './cli-error';

/** Parses one `key=value` (splits at the first `=`; the key must be non-empty; the value may contain `=`). */
export function parseKeyValue(option: string, text: string): [string, string] {
  const i = text.indexOf('=');
  if (i <= 0) throw usageError(`${option} expects key=value, got ${JSON.stringify(text)}`);
  return [text.slice(0, i), text.slice(i + 1)];
}

/** Folds repeated `key=value` options into a map; a repeated key is an error (which one would win?). */
export function toStringMap(option: string, entries: readonly string[] | undefined): Record<string, string> | undefined {
  if (entries === undefined || entries.length === 0) return undefined;
  const map: Record<string, string> = {};
  for (const entry of entries) {
    const [k, v] = parseKeyValue(option, entry);
    if (Object.prototype.hasOwnProperty.call(map, k)) throw usageError(`${option} ${k} is given more than once`);
    map[k] = v;
  }
  return map;
}

/** Commander collector for repeatable options. */
export const collect = (value: string, previous: string[] | undefined): string[] => [...(previous ?? []), value];

/** A whole number in `[min, max]`, for options such as `--days` and `--bytes`. */
export function parseIntBetween(option: string, text: string, min: number, max: number): number {
  const n = /^\d+$/.test(text.trim()) ? Number(text.trim()) : Number.NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) throw usageError(`${option} must be a whole number between ${min} and ${max}, got ${JSON.stringify(text)}`);
  return n;
}

/** Strict base64 (standard alphabet, optional padding, whitespace ignored); rejects what Buffer would silently skip. */
export function parseBase64(option: string, text: string): Buffer {
  const clean = text.replace(/\s+/g, '');
  if (clean.length === 0 || !/^[A-Za-z0-9+/]+={0,2}$/.test(clean) || clean.length % 4 === 1) {
    throw usageError(`${option} must be base64`);
  }
  return Buffer.from(clean, 'base64');
}

/** Reads a whole file; a missing or unreadable file is a usage error naming the option and path. */
export function readFileArg(option: string, path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (e) {
    const why = (e as NodeJS.ErrnoException).code ?? (e as Error).message;
    throw usageError(`${option} ${path}: cannot read the file (${why})`);
  }
}

/** A value given as a file path or inline base64 (`--token FILE|B64`): an existing file wins. */
export function readFileOrBase64(option: string, value: string, exists: (p: string) => boolean): Buffer {
  return exists(value) ? readFileArg(option, value) : parseBase64(option, value);
}

/** Exactly one of several input options, e.g. `--in FILE` or `--text S`. */
export function exactlyOne<T>(sources: Record<string, T | undefined>): [string, T] {
  const given = Object.entries(sources).filter((e): e is [string, T] => e[1] !== undefined);
  if (given.length !== 1) throw usageError(`give exactly one of ${Object.keys(sources).join(', ')}`);
  return given[0];
}
