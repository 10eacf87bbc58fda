import fc from 'fast-check';
import { z } from 'zod';
import { BusErrorCode, isRetriable } from './error-codes';
import { aliasName, keyVersion, MAX_KEY_VERSION, NUL_RULE, SURROGATE_RULE, tenantId, tenantOrWildcard, unsafeStringIssues } from './fields';
import { parseRequest } from './validation';

const Schema = z.strictObject({
  keyId: z.string().max(300),
  context: z.record(z.string(), z.string()).optional(),
  items: z.array(z.strictObject({ name: z.string() })).optional(),
});

const refusal = (body: unknown) => {
  const r = parseRequest(Schema, body);
  if (r.ok) throw new Error('expected a refusal');
  return r.error;
};

describe('text Postgres cannot store is refused in every request string', () => {
  it.each([
    [{ keyId: 'a\u0000b' }, 'keyId', NUL_RULE],
    [{ keyId: 'k', context: { x: 'a\u0000' } }, 'context.x', NUL_RULE],
    [{ keyId: 'k', context: { x: '\ud800' } }, 'context.x', SURROGATE_RULE],
    [{ keyId: 'k', items: [{ name: 'ok' }, { name: 'x\udc00' }] }, 'items[1].name', SURROGATE_RULE],
    [{ keyId: 'k', context: { '\u0000x': 'v' } }, 'context', `${NUL_RULE} (in a key)`],
  ])('%j -> %s: %s', (body, path, rule) => {
    const e = refusal(body);
    expect(e.code).toBe(BusErrorCode.Validation);
    expect(isRetriable(e.code)).toBe(false);
    expect(e.details).toEqual({ issues: [{ path, rule }] });
    expect(e.message).toBe(`${path}: ${rule}`);
  });

  it('accepts well-formed text, surrogate pairs (emoji) included', () => {
    expect(parseRequest(Schema, { keyId: 'k', context: { x: 'vector 😀 ü' } }).ok).toBe(true);
  });

  it('property: a NUL or lone surrogate anywhere in any JSON value is found, with its path, and nothing else is', () => {
    const bad = fc.constantFrom('\u0000', '\ud800', '\udfff', 'a\ud83d', '\ude00b');
    fc.assert(fc.property(fc.jsonValue(), bad, fc.string(), (json, poison, prefix) => {
      const clean = unsafeStringIssues(json).length === 0;
      const wrapped = { deep: [json, { [`k${prefix.replace(/[\ud800-\udfff\u0000]/g, '')}`]: `${prefix}${poison}` }] };
      const issues = unsafeStringIssues(wrapped);
      expect(issues.length).toBeGreaterThan(0);
      if (clean) expect(issues[0].path).toMatch(/^deep\[1\]\./);
    }));
  });

  it('refuses over-deep nesting instead of walking it', () => {
    let v: unknown = 'x';
    for (let i = 0; i < 100; i++) v = [v];
    expect(unsafeStringIssues({ v })[0].rule).toMatch(/deeper than 64/);
  });
});

describe('shared field rules', () => {
  it('key versions fit Postgres integer', () => {
    expect(keyVersion.safeParse(MAX_KEY_VERSION).success).toBe(true);
    for (const v of [0, MAX_KEY_VERSION + 1, 2 ** 32 + 1, 1.5, -1]) expect(keyVersion.safeParse(v).success).toBe(false);
  });

  it('one tenant rule: 1..64 of A-Z a-z 0-9 . _ -, no emoji, no NUL, no over-long', () => {
    for (const t of ['acme', 't-1', 'a.b_c', 'x'.repeat(64)]) expect(tenantId.safeParse(t).success).toBe(true);
    for (const t of ['', 'x'.repeat(65), 'acme😀', '\u0000acme', '.acme', 'a b', '*']) expect(tenantId.safeParse(t).success).toBe(false);
    expect(tenantOrWildcard.safeParse('*').success).toBe(true);
    expect(tenantOrWildcard.safeParse('x'.repeat(65)).success).toBe(false);
  });

  it('one alias rule, with or without the alias/ prefix', () => {
    for (const a of ['docs', 'alias/docs', 'alias/app/prod-1']) expect(aliasName.safeParse(a).success).toBe(true);
    for (const a of ['', 'alias/', 'bad name', 'alias/😀', `alias/${'x'.repeat(251)}`]) expect(aliasName.safeParse(a).success).toBe(false);
  });
});
