/** The worked example of docs/auth.md, byte for byte: if this fails, fix the code or the document. */
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash, createPrivateKey, createPublicKey, sign } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { openBody, sealBody, sealKeyOf } from './bus-seal';
import { agreementKeyPair, deriveSessionKey, ServiceIdentity, verifyLoginReply } from './key-agreement';
import { finishLogin } from './login-client';
import { loginMessage, startLogin } from './login-proof';
import { rawPublicKey } from './principal-credential';
import { requestMac } from './request-signature';
import { SessionSealer } from './session-token';

describe('docs/auth.md worked example', () => {
  const pkcs8 = 'MC4CAQAwBQYDK2VwBCIEIAEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEB';
  const secret = 'example-secret-do-not-use-0123456789abcdef';
  const client = agreementKeyPair(Buffer.alloc(32, 2));
  const server = agreementKeyPair(Buffer.alloc(32, 3));
  const clientKey = 'zo060cy2M-x7cMF4FKXHbs0CloUFDTRHRboFhw5YfVk';
  const serverKey = 'Xf7dO2vUf2-ijuFdlp1bsOpTd01Ii9r53xxuASSz7yI';
  const loginSignature = 'HHmy8iEA9BZ33GpUzRZxjgKsgUwmWW8HeJVwJL9e5ZdBd-nvB9_Fzq7IxTghu9M2fYiSud2swHLBWYenHS6TAg';
  const sessionKey = 'KTRTuQFwMkux8P-csLTADywnV1lkVfawUYVDnVMcnFU';
  const token = 'ekm1.eyJzaWQiOiIwMDAwMDAwMC0wMDAwLTQwMDAtODAwMC0wMDAwMDAwMDAwMDEiLCJwaWQiOiJzdmMtb3JkZXJzIiwiY2lkIjoiY3JlZC0xIiwidGVuIjoiYWNtZSIsInJvbCI6WyJhcHAiXSwiaWF0IjoxNzY3MjI1NjAwMDAwLCJleHAiOjE3NjcyMjYyMDAwMDAsInNrdyI6IkJBUUVCQVFFQkFRRUJBUUU0cXFCYjB6Z2swWGJCS1ZENnFxeGNiNVV6RGNEVWs4XzM5bmw5YjIzOXo0Z1ZoV3RiSkp3Z2F2bDc4b21Henk5In0.nRw8H__uKNohkk5Mahbp4eGHPdnlMUP7PDUA0XR2Ccg';
  const serviceSignature = 'OTgPKKSHMhWZXzIRmtZSV7MKzWq5Vyj7cDE5pGEwSpW0_alc0GhuTlgUbIM5W-ZXmXz_3TtZ1JdTGbH2YJPtBQ';
  const expiresAt = '2026-01-01T00:10:00.000Z';
  const requestId = '00000000-0000-4000-8000-0000000000aa';

  it('ephemeral agreement keys', () => {
    expect(client.publicKey).toBe(clientKey);
    expect(server.publicKey).toBe(serverKey);
  });

  it('login proof binds the client agreement key', () => {
    const key = createPrivateKey({ key: Buffer.from(pkcs8, 'base64'), format: 'der', type: 'pkcs8' });
    const msg = loginMessage('svc-orders', 'cred-1', 1767225600000, 'AAECAwQFBgcICQoLDA0ODw', clientKey);
    expect(msg).toBe(`ekm-login-v2\nsvc-orders\ncred-1\n1767225600000\nAAECAwQFBgcICQoLDA0ODw\n${clientKey}`);
    expect(sign(null, Buffer.from(msg), key).toString('base64url')).toBe(loginSignature);
    expect(rawPublicKey(createPublicKey(key))).toBe('iojj3XQJ8ZX9UtstPLpdcspnCb8dlBIb83SIAbQPb1w');
  });

  it('both sides derive the same session key; it is never sent', () => {
    expect(deriveSessionKey(client.privateKey, serverKey, clientKey, serverKey).toString('base64url')).toBe(sessionKey);
    expect(deriveSessionKey(server.privateKey, clientKey, clientKey, serverKey).toString('base64url')).toBe(sessionKey);
  });

  it('session token carries the key wrapped for the services only', () => {
    const sealer = new SessionSealer(secret);
    const s = sealer.issue({
      principalId: 'svc-orders', credentialId: 'cred-1', tenant: 'acme', roles: ['app'], ttlMs: 600000, now: 1767225600000,
      sessionId: '00000000-0000-4000-8000-000000000001', sessionKey: Buffer.from(sessionKey, 'base64url'), wrapIv: Buffer.alloc(12, 4),
    });
    expect(s.token).toBe(token);
    const opened = sealer.open(token);
    expect(opened.ok && opened.sessionKey.toString('base64url')).toBe(sessionKey);
    expect(token.includes(sessionKey)).toBe(false);
  });

  it('service identity signs the reply; the client verifies it under the pin', () => {
    const id = ServiceIdentity.fromAuthSecret(secret);
    expect(id.publicKey).toBe('sB6cMI6y1sKaCNQOfTsLa33cwZxRT0hQOK49wtvmrSc');
    expect(id.signLoginReply(loginSignature, serverKey, token, expiresAt)).toBe(serviceSignature);
    expect(verifyLoginReply(id.publicKey, serviceSignature, loginSignature, serverKey, token, expiresAt)).toBe(true);
    expect(verifyLoginReply(id.publicKey, serviceSignature, loginSignature, serverKey, token, '2026-01-01T00:10:00.001Z')).toBe(false);
    const started = { request: { principalId: 'svc-orders', credentialId: 'cred-1', timestamp: 1767225600000, nonce: 'AAECAwQFBgcICQoLDA0ODw', clientKey, signature: loginSignature }, agreement: client };
    const reply = { sessionToken: token, serverKey, serviceSignature, sessionId: '00000000-0000-4000-8000-000000000001', principalId: 'svc-orders', tenant: 'acme', roles: ['app'], expiresAt };
    expect(finishLogin(started, reply, id.publicKey).sessionKey.toString('base64url')).toBe(sessionKey);
    const other = ServiceIdentity.fromAuthSecret('another-secret-0123456789abcdef-xyz').publicKey;
    expect(() => finishLogin(started, reply, other)).toThrow(/not signed by the pinned EKM service identity/);
    expect(startLogin({ principalId: 'p', credentialId: 'c', privateKey: pkcs8 }).request.clientKey).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  it('sealed request body and its signature', () => {
    const sk = Buffer.from(sessionKey, 'base64url');
    const key = sealKeyOf(sk);
    expect(key.toString('hex')).toBe('4ecee1d0a41c2f1fc96372dec840a7de1cb534882c1fd9e50dd088aa6ec0480a');
    const plain = Buffer.from('{"keyId":"alias/orders","plaintext":"aGVsbG8="}');
    const sealed = sealBody(key, 'request', 'ekm.v1.keys.encrypt', requestId, plain, Buffer.alloc(12, 5));
    expect(sealed.toString('hex')).toBe('05050505050505050505050544248f5348a782982c8c76a6715e23b86f18e1adb74993cc0534f5a94c369e519fb4bb1d0f2501c180607ff264269165a16d50510b1231ebe1df22c4b04925');
    expect(createHash('sha256').update(sealed).digest('hex')).toBe('6de2f9d4780a9d42cf38f7eab810055ecce882f1b46a43cfe06660c2441b3c4a');
    expect(requestMac(sk, { subject: 'ekm.v1.keys.encrypt', timestamp: '1767225600000', nonce: 'AAECAwQFBgcICQoLDA0ODw', requestId }, sealed).toString('base64url')).toBe('avnwgVuDlIIJywCzVgnGVKUoI6Jt689HI_78L-Y7Wec');
    expect(openBody(key, 'request', 'ekm.v1.keys.encrypt', requestId, sealed)).toEqual(plain);
    // bound to direction, subject and request id
    expect(() => openBody(key, 'reply', 'ekm.v1.keys.encrypt', requestId, sealed)).toThrow(/does not open/);
    expect(() => openBody(key, 'request', 'ekm.v1.keys.decrypt', requestId, sealed)).toThrow(/does not open/);
    expect(() => openBody(key, 'request', 'ekm.v1.keys.encrypt', 'other', sealed)).toThrow(/does not open/);
  });

  // An independent implementation: the Python block of docs/auth.md (stdlib + `cryptography`).
  const hasPython = spawnSync('python3', ['-c', 'import cryptography'], { stdio: 'ignore' }).status === 0;
  (hasPython ? it : it.skip)('the Python check in docs/auth.md passes (python3 with the cryptography package)', () => {
    const doc = readFileSync(join(__dirname, '..', '..', '..', 'docs', 'auth.md'), 'utf8');
    const code = /```python\n([\s\S]*?)```/.exec(doc)?.[1];
    expect(code).toBeDefined();
    expect(execFileSync('python3', ['-c', code!], { encoding: 'utf8' }).trim()).toBe('worked example OK');
  });
});
