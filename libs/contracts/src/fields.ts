/**
 * Field rules shared by every request schema, so a tenant, an alias or a key version means the same
 * thing on every subject and every service refuses the same values before doing any work.
 *
 * Strings: `validate` (and so `parseRequest`) refuses NUL characters and unpaired UTF-16 surrogates in
 * every string of every request, object keys included ({@link unsafeStringIssues}): Postgres refuses
 * both in `text` and `jsonb`, so a value that carries one cannot be stored in an event, a usage record
 * or the audit trail, and one such value in a group commit used to fail the whole batch.
 */
import { z } from 'zod';
import type { ValidationIssue } from './validation';

/**
 * Largest key version (and expected stream version) a request may name: 2^31-1, Postgres `integer`.
 * Versions are stored as `integer` in the keys projection, the rotation schedules and the audit trail's
 * `key_version` column; a key rotated every second would need 68 years to reach it, so widening every
 * column to `bigint` would buy nothing but a migration in three schemas. Blob headers carry a u32, so
 * the blob parser refuses the upper half with the same bound.
 */
export const MAX_KEY_VERSION = 2_147_483_647;

/** Tenant ids: 1-64 characters of A-Z a-z 0-9 . _ -, starting with a letter or digit. */
export const TENANT_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
export const TENANT_RULE = 'must be 1..64 characters of A-Z a-z 0-9 . _ - (not starting with . _ -)';

/** Alias names: `alias/` (optional on input) then letters, digits, / _ -; at most 256 characters with the prefix. */
export const ALIAS_PATTERN = /^alias\/[A-Za-z0-9/_-]+$/;
export const MAX_ALIAS_LENGTH = 256;
export const ALIAS_RULE = `must look like alias/<name> with letters, digits, /, _ or - (at most ${MAX_ALIAS_LENGTH} characters)`;

export const NUL_RULE = 'must not contain NUL characters';
export const SURROGATE_RULE = 'must not contain unpaired UTF-16 surrogates';

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** The rule `s` breaks as stored text (NUL, unpaired surrogate), or null when Postgres can store it. */
export function storableTextProblem(s: string): string | null {
  if (s.includes('\u0000')) return NUL_RULE;
  if (LONE_SURROGATE.test(s)) return SURROGATE_RULE;
  return null;
}

/** `alias/x` for `x` or `alias/x`: the one spelling stored and compared. */
export const withAliasPrefix = (alias: string): string => (alias.startsWith('alias/') ? alias : `alias/${alias}`);

/** Whether `alias` (with or without `alias/`) satisfies {@link ALIAS_RULE}. */
export function isAliasName(alias: string): boolean {
  const full = withAliasPrefix(alias);
  return full.length <= MAX_ALIAS_LENGTH && ALIAS_PATTERN.test(full);
}

/** A tenant id ({@link TENANT_RULE}). */
export const tenantId = z.string().regex(TENANT_PATTERN, TENANT_RULE);
/** A tenant id, or `*` for principals and policies that span tenants. */
export const tenantOrWildcard = z.string().refine((t) => t === '*' || TENANT_PATTERN.test(t), `must be * or ${TENANT_RULE.slice('must be '.length)}`);
/** An alias name with or without the `alias/` prefix ({@link ALIAS_RULE}). */
export const aliasName = z.string().refine(isAliasName, ALIAS_RULE);

const integerIn = (min: number, max: number): z.ZodNumber => {
  const rule = `must be an integer between ${min} and ${max}`;
  return z.number({ error: (i) => (i.input === undefined ? 'is required' : rule) }).int(rule).min(min, rule).max(max, rule);
};
/** A key version: 1..{@link MAX_KEY_VERSION}. */
export const keyVersion = integerIn(1, MAX_KEY_VERSION);
/** An expected stream version (compare-and-set): 0..{@link MAX_KEY_VERSION}. */
export const streamVersion = integerIn(0, MAX_KEY_VERSION);

const MAX_DEPTH = 64;
const MAX_ISSUES = 20;

/**
 * Every string (value or object key) in `input` that Postgres could not store, as issues naming the
 * path and the rule (never the value). Also refuses nesting deeper than 64 levels, which no request
 * schema has and which would otherwise cost a deep walk per request.
 */
export function unsafeStringIssues(input: unknown): ValidationIssue[] {
  const issues: ValidationIssue[] = [];
  const walk = (v: unknown, path: string, depth: number): void => {
    if (issues.length >= MAX_ISSUES) return;
    if (typeof v === 'string') {
      const p = storableTextProblem(v);
      if (p) issues.push({ path: path || '(request)', rule: p });
      return;
    }
    if (typeof v !== 'object' || v === null) return;
    if (depth > MAX_DEPTH) {
      issues.push({ path: path || '(request)', rule: `must not nest deeper than ${MAX_DEPTH} levels` });
      return;
    }
    if (Array.isArray(v)) {
      v.forEach((x, i) => walk(x, `${path}[${i}]`, depth + 1));
      return;
    }
    for (const [k, x] of Object.entries(v)) {
      const kp = path === '' ? k : `${path}.${k}`;
      const keyProblem = storableTextProblem(k);
      // The key itself may be the bad string: name its parent and say it is a key.
      if (keyProblem) issues.push({ path: path || '(request)', rule: `${keyProblem} (in a key)` });
      else walk(x, kp, depth + 1);
    }
  };
  walk(input, '', 0);
  return issues;
}
