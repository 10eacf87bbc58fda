import { ALIAS_PATTERN } from '@ekm/contracts';
import {
  MAX_ALIAS_LENGTH, MAX_CONTEXT_KEY_LENGTH, MAX_CONTEXT_VALUE_LENGTH, MAX_REQUIRED_CONTEXT_ENTRIES,
  MAX_TAG_KEY_LENGTH, MAX_TAG_VALUE_LENGTH,
} from './key.limits';

// Structural rules shared by the deciders. Each returns a problem sentence, or null when the input is fine.
// Problems describe the rule, not the value, so they are safe to log.

export type ImportTokenProblem = 'UNKNOWN_TOKEN' | 'ALGORITHM_MISMATCH' | 'DUPLICATE_TOKEN_ID';

// ALIAS_PATTERN: the one alias rule, shared with the request schemas (@ekm/contracts).
// AWS reserves alias/aws/ for its managed keys; reserving it keeps the AWS-compatible API unambiguous.
const RESERVED_ALIAS_PREFIX = 'alias/aws/';

export const aliasProblem = (alias: string): string | null => {
  if (typeof alias !== 'string' || !ALIAS_PATTERN.test(alias)) return 'must look like alias/<name> with letters, digits, /, _ or -';
  if (alias.length > MAX_ALIAS_LENGTH) return `must be at most ${MAX_ALIAS_LENGTH} characters`;
  if (alias.startsWith(RESERVED_ALIAS_PREFIX)) return `the prefix ${RESERVED_ALIAS_PREFIX} is reserved`;
  return null;
};

// AWS tag alphabet: Unicode letters, digits, white space and _ . : / = + - @.
const TAG_PATTERN = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$/u;

export const tagProblem = (key: string, value: unknown): string | null => {
  if (typeof key !== 'string' || key.length === 0 || key.length > MAX_TAG_KEY_LENGTH) return `tag keys must be 1-${MAX_TAG_KEY_LENGTH} characters`;
  if (!TAG_PATTERN.test(key)) return 'tag keys may hold letters, digits, spaces and _ . : / = + - @';
  if (key.toLowerCase().startsWith('aws:')) return 'the tag prefix aws: is reserved';
  if (typeof value !== 'string' || value.length > MAX_TAG_VALUE_LENGTH) return `tag values must be strings of at most ${MAX_TAG_VALUE_LENGTH} characters`;
  if (!TAG_PATTERN.test(value)) return 'tag values may hold letters, digits, spaces and _ . : / = + - @';
  return null;
};

export const requiredContextProblem = (context: unknown): string | null => {
  if (typeof context !== 'object' || context === null || Array.isArray(context)) return 'must be an object of string entries';
  const entries = Object.entries(context);
  if (entries.length > MAX_REQUIRED_CONTEXT_ENTRIES) return `at most ${MAX_REQUIRED_CONTEXT_ENTRIES} entries`;
  for (const [k, v] of entries) {
    if (k.length === 0 || k.length > MAX_CONTEXT_KEY_LENGTH) return `keys must be 1-${MAX_CONTEXT_KEY_LENGTH} characters`;
    if (typeof v !== 'string' || v.length === 0 || v.length > MAX_CONTEXT_VALUE_LENGTH)
      return `values must be 1-${MAX_CONTEXT_VALUE_LENGTH} characters`;
  }
  return null;
};

export const textProblem = (value: unknown, min: number, max: number): string | null =>
  typeof value === 'string' && value.length >= min && value.length <= max ? null : `must be a string of ${min}-${max} characters`;

export const isPositiveInteger = (n: unknown): n is number => typeof n === 'number' && Number.isSafeInteger(n) && n > 0;

/** True when `value` is one of the `as const` table's members (commands may come from loosely typed input). */
export const isOneOf = <T extends string>(table: readonly T[], value: unknown): value is T =>
  typeof value === 'string' && (table as readonly string[]).includes(value);

// Time arithmetic on ISO-8601 strings: pure (no clock is read), UTC, millisecond precision.
const ISO_INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/;
const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;

export const isIsoInstant = (s: unknown): s is string => typeof s === 'string' && ISO_INSTANT.test(s) && !Number.isNaN(Date.parse(s));
export const addDays = (iso: string, days: number): string => new Date(Date.parse(iso) + days * DAY_MS).toISOString();
export const addHours = (iso: string, hours: number): string => new Date(Date.parse(iso) + hours * HOUR_MS).toISOString();
/** `a <= b` as instants (not as strings: offsets and precision may differ). */
export const isAtOrBefore = (a: string, b: string): boolean => Date.parse(a) <= Date.parse(b);
