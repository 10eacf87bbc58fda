/** The worked example of docs/auth.md, byte for byte: if this fails, fix the code or the document. */
import { createPrivateKey, sign } from 'node:crypto';
import { loginMessage } from './login-proof';
import { rawPublicKey } from './principal-credential';
import { requestMac } from './request-signature';
import { SessionSealer } from './session-token';
import { createPublicKey } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

describe('docs/auth.md worked example', () => {
  const pkcs8 = 'MC4CAQAwBQYDK2VwBCIEIAEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEB';
  const token = 'ekm1.eyJzaWQiOiIwMDAwMDAwMC0wMDAwLTQwMDAtODAwMC0wMDAwMDAwMDAwMDEiLCJwaWQiOiJzdmMtb3JkZXJzIiwiY2lkIjoiY3JlZC0xIiwidGVuIjoiYWNtZSIsInJvbCI6WyJhcHAiXSwiaWF0IjoxNzY3MjI1NjAwMDAwLCJleHAiOjE3NjcyMjYyMDAwMDB9.iTY2V-Qn21CcBBPm-98yB79Y2V5DAkyGE-bQgTALoUk';

  it('login proof', () => {
    const key = createPrivateKey({ key: Buffer.from(pkcs8, 'base64'), format: 'der', type: 'pkcs8' });
    const msg = loginMessage('svc-orders', 'cred-1', 1767225600000, 'AAECAwQFBgcICQoLDA0ODw');
    expect(msg).toBe('ekm-login-v1\nsvc-orders\ncred-1\n1767225600000\nAAECAwQFBgcICQoLDA0ODw');
    expect(sign(null, Buffer.from(msg), key).toString('base64url')).toBe('Qa94D7jpqoOZTBou1LRuFWSwjILkUPOAp1snit8_RA0bkcFI486Z5cQMA5_YWIRC5bqdQJk2KdT2CHU-JDSBBA');
    expect(rawPublicKey(createPublicKey(key))).toBe('iojj3XQJ8ZX9UtstPLpdcspnCb8dlBIb83SIAbQPb1w');
  });

  it('session token and session key', () => {
    const s = new SessionSealer('example-secret-do-not-use-0123456789abcdef').issue({
      principalId: 'svc-orders', credentialId: 'cred-1', tenant: 'acme', roles: ['app'], ttlMs: 600000, now: 1767225600000, sessionId: '00000000-0000-4000-8000-000000000001',
    });
    expect(s.token).toBe(token);
    expect(s.sessionKey.toString('base64url')).toBe('U6CczsdGU0C_9Homrc80ytQCTjDDGIs9_GKAThiCxYY');
  });

  it('request signature', () => {
    const body = Buffer.from('{"keyId":"alias/orders","plaintext":"aGVsbG8="}');
    const key = Buffer.from('U6CczsdGU0C_9Homrc80ytQCTjDDGIs9_GKAThiCxYY', 'base64url');
    const f = { subject: 'ekm.v1.keys.encrypt', timestamp: '1767225600000', nonce: 'AAECAwQFBgcICQoLDA0ODw', requestId: 'req-0001' };
    expect(requestMac(key, f, body).toString('base64url')).toBe('kbn5nH38b13XcAyVY-0dmouimSpsG39-gpRoneWgW68');
  });

  it('the Python check in docs/auth.md passes (python3, stdlib only)', () => {
    const doc = readFileSync(join(__dirname, '../../../docs/auth.md'), 'utf8');
    const blocks = [...doc.matchAll(/```python\n([\s\S]*?)```/g)].map((m) => m[1]!);
    expect(blocks.length).toBeGreaterThan(0);
    // An assert that fails exits non-zero, which execFileSync throws.
    for (const code of blocks) execFileSync('python3', ['-c', code], { stdio: 'pipe' });
  });
});
