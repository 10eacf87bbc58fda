/**
 * Request validation with zod. Messages name the field path and the rule, never the value
 * (a rejected field may hold plaintext): `numberOfBytes: must be an integer between 1 and 1024`.
 */
import { z } from 'zod';
import { BusErrorCode } from './error-codes';
import { fail, ok, type Reply } from './reply';
import { unsafeStringIssues } from './fields';

/** Default largest request body, in bytes (1 MiB). The transport takes its limit from `EKM_MAX_REQUEST_BYTES`. */
export const MAX_REQUEST_BYTES = 1024 * 1024;

/** One failed rule: where (`numberOfBytes`, `keys[2].id`, `(request)` for the root) and what. */
export interface ValidationIssue {
  readonly path: string;
  readonly rule: string;
}

/** `['a', 2, 'b']` → `a[2].b`; the root is `(request)`. */
export function formatPath(path: readonly PropertyKey[]): string {
  if (path.length === 0) return '(request)';
  return path.reduce<string>((acc, seg) => {
    if (typeof seg === 'number') return `${acc}[${seg}]`;
    const s = String(seg);
    return acc === '' ? s : `${acc}.${s}`;
  }, '');
}

const article = (t: string): string => (/^[aeiou]/.test(t) ? `an ${t}` : `a ${t}`);
const typeName = (t: string): string => (t === 'int' ? 'integer' : t);
const kindOf = (v: unknown): string => (v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v);

type RawIssue = Parameters<z.core.$ZodErrorMap>[0];

function sizeRule(origin: string, bound: 'at least' | 'at most', n: number | bigint, inclusive: boolean | undefined, exact: boolean | undefined): string {
  const unit = origin === 'string' ? ' characters' : origin === 'array' || origin === 'set' ? ' items' : '';
  if (origin === 'string' || origin === 'array' || origin === 'set') {
    if (exact) return `must have exactly ${n}${unit}`;
    return `must have ${bound} ${n}${unit}`;
  }
  const what = origin === 'int' ? 'an integer' : 'a number';
  if (inclusive === false) return `must be ${what} ${bound === 'at least' ? 'greater' : 'less'} than ${n}`;
  return `must be ${what} ${bound === 'at least' ? '>=' : '<='} ${n}`;
}

/**
 * The rule a raw zod issue broke, phrased for humans and without the offending value. Used as the
 * parse-time error map, so a schema's own message (`z.string().min(1, 'must not be empty')`) wins.
 */
export function describeRule(issue: RawIssue): string {
  switch (issue.code) {
    case 'invalid_type':
      if (issue.input === undefined) return 'is required';
      return `must be ${article(typeName(issue.expected))} (got ${kindOf(issue.input)})`;
    case 'too_small':
      return sizeRule(issue.origin, 'at least', issue.minimum, issue.inclusive, issue.exact);
    case 'too_big':
      return sizeRule(issue.origin, 'at most', issue.maximum, issue.inclusive, issue.exact);
    case 'invalid_format':
      if (issue.format === 'regex') return `must match ${issue.pattern ?? 'the expected pattern'}`;
      return `must be a valid ${issue.format}`;
    case 'not_multiple_of':
      return `must be a multiple of ${issue.divisor}`;
    case 'unrecognized_keys':
      return `has unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys.join(', ')}`;
    case 'invalid_value':
      return `must be one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`;
    case 'invalid_union':
      return 'does not match any allowed shape';
    case 'invalid_key':
      return 'has an invalid key';
    case 'invalid_element':
      return 'has an invalid element';
    case 'custom':
      return issue.message ?? 'is invalid';
    default:
      return 'is invalid';
  }
}

const errorMap: z.core.$ZodErrorMap = (issue) => describeRule(issue);

/**
 * Runs `schema` with EKM's rule phrasing, after refusing NUL characters, unpaired surrogates and
 * over-deep nesting anywhere in `input` (fields.ts) and returns the issues (empty when valid) or the value.
 */
export function validate<S extends z.ZodType>(schema: S, input: unknown): { ok: true; value: z.output<S> } | { ok: false; issues: ValidationIssue[] } {
  // Text Postgres cannot store is refused for every schema, before the schema's own rules run.
  const unsafe = unsafeStringIssues(input);
  if (unsafe.length > 0) return { ok: false, issues: unsafe };
  const r = schema.safeParse(input, { error: errorMap });
  if (r.success) return { ok: true, value: r.data };
  return { ok: false, issues: r.error.issues.map((i) => ({ path: formatPath(i.path), rule: i.message })) };
}

/** `path: rule; path: rule` — the message of an `EKM_VALIDATION` reply. */
export function formatIssues(issues: readonly ValidationIssue[]): string {
  return issues.map((i) => `${i.path}: ${i.rule}`).join('; ');
}

/**
 * Validates a decoded request body. On success `{ok:true,data}` with the schema's output type; on
 * failure a ready-to-send `EKM_VALIDATION` reply whose message names every field path and rule and
 * whose `details.issues` lists them. Handlers can `return` the failure as is.
 */
export function parseRequest<S extends z.ZodType>(schema: S, body: unknown): Reply<z.output<S>> {
  const r = validate(schema, body);
  if (r.ok) return ok(r.value);
  return fail(BusErrorCode.Validation, formatIssues(r.issues), { issues: r.issues });
}

/** An integer field in `[min, max]` whose error reads `must be an integer between min and max`. */
export function integerBetween(min: number, max: number): z.ZodNumber {
  const rule = `must be an integer between ${min} and ${max}`;
  return z.number({ error: (i) => (i.input === undefined ? 'is required' : rule) }).int(rule).min(min, rule).max(max, rule);
}
