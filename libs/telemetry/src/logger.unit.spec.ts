import { Writable } from 'node:stream';
import { createLogger, REDACTED, SENSITIVE_FIELDS } from './logger';

function capture(): { stream: Writable; lines: () => string[] } {
  const chunks: string[] = [];
  const stream = new Writable({ write(chunk, _enc, cb) { chunks.push(String(chunk)); cb(); } });
  return { stream, lines: () => chunks.join('').split('\n').filter((l) => l.length > 0) };
}

describe('createLogger', () => {
  it('writes one JSON line with level, time, service and msg', () => {
    const out = capture();
    createLogger('keys', { destination: out.stream }).info({ requestId: 'r1' }, 'ready');
    const [line] = out.lines();
    expect(JSON.parse(line)).toMatchObject({ level: 'info', service: 'keys', msg: 'ready', requestId: 'r1' });
    expect(JSON.parse(line).time).toMatch(/^\d{4}-\d\d-\d\dT/);
  });

  it('censors every sensitive field at the top level, nested, and inside arrays', () => {
    const out = capture();
    const log = createLogger('keys', { destination: out.stream });
    const values: string[] = [];
    const v = (tag: string): string => { const s = `SENSITIVE-${tag}-${values.length}-7f3a`; values.push(s); return s; };
    const top: Record<string, unknown> = {};
    const nested: Record<string, unknown> = {};
    const deep: Record<string, unknown> = {};
    const item: Record<string, unknown> = {};
    for (const f of SENSITIVE_FIELDS) {
      top[f] = v(f);
      nested[f] = v(f);
      deep[f] = v(f);
      item[f] = v(f);
    }
    log.warn({ ...top, request: nested, outer: { inner: deep }, items: [item], keyId: 'k_visible' }, 'with secrets');
    const [line] = out.lines();
    for (const s of values) expect(line).not.toContain(s);
    const parsed = JSON.parse(line);
    expect(parsed.plaintext).toBe(REDACTED);
    expect(parsed.request.dek).toBe(REDACTED);
    expect(parsed.outer.inner.ciphertextBlob).toBe(REDACTED);
    expect(parsed.items[0].privateKey).toBe(REDACTED);
    expect(parsed.keyId).toBe('k_visible');
  });

  it('covers the fields the security rules name', () => {
    for (const f of ['plaintext', 'key', 'keyMaterial', 'material', 'dek', 'secret', 'password', 'pin', 'token', 'credential', 'ciphertextBlob', 'privateKey']) {
      expect(SENSITIVE_FIELDS).toContain(f);
    }
  });
});
