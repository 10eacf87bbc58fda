import { AuthFailureReason } from './auth.types';
import { LoginRequestSchema, signLoginRequest, verifyLoginProof } from './login-proof';
import { generatePrincipalCredential, parseCredentialFile, toCredentialFile, verifierOf } from './principal-credential';

describe('login proof (Ed25519)', () => {
  const cred = generatePrincipalCredential();
  const file = toCredentialFile('svc-orders', cred, 'nats://127.0.0.1:4222');

  it('a signed login request verifies against the stored verifier only', () => {
    const req = signLoginRequest(file, 1_000_000);
    expect(LoginRequestSchema.safeParse(req).success).toBe(true);
    expect(verifyLoginProof(req, cred.publicKey, 1_000_000)).toEqual({ ok: true });
    expect(verifyLoginProof(req, generatePrincipalCredential().publicKey, 1_000_000)).toEqual({ ok: false, reason: AuthFailureReason.LoginProofInvalid });
  });

  it.each([
    ['principalId', { principalId: 'svc-other' }],
    ['credentialId', { credentialId: 'cred-other' }],
    ['timestamp', { timestamp: 1_000_001 }],
    ['nonce', { nonce: 'BBBBBBBBBBBBBBBBBBBBBB' }],
    ['signature', { signature: 'A'.repeat(86) }],
  ])('a changed %s is refused', (_f, change) => {
    const req = { ...signLoginRequest(file, 1_000_000), ...change };
    expect(verifyLoginProof(req, cred.publicKey, 1_000_000)).toEqual({ ok: false, reason: AuthFailureReason.LoginProofInvalid });
  });

  it('refuses proofs more than 30 s old or ahead', () => {
    const req = signLoginRequest(file, 1_000_000);
    expect(verifyLoginProof(req, cred.publicKey, 1_030_000).ok).toBe(true);
    expect(verifyLoginProof(req, cred.publicKey, 1_030_001)).toEqual({ ok: false, reason: AuthFailureReason.TimestampSkew });
    expect(verifyLoginProof(req, cred.publicKey, 969_999)).toEqual({ ok: false, reason: AuthFailureReason.TimestampSkew });
  });

  it('credential files round-trip, the verifier matches, and bad files fail with a message that holds no key', () => {
    expect(parseCredentialFile(JSON.stringify(file))).toEqual(file);
    expect(verifierOf(file)).toBe(cred.publicKey);
    expect(() => parseCredentialFile('{')).toThrow(/not valid JSON/);
    expect(() => parseCredentialFile(JSON.stringify({ ...file, principalId: '' }))).toThrow(/principalId/);
    const bad = { ...file, privateKey: Buffer.from('not a key').toString('base64') };
    expect(() => parseCredentialFile(JSON.stringify(bad))).toThrow(/not a PKCS#8 Ed25519 private key/);
    try {
      parseCredentialFile(JSON.stringify(bad));
    } catch (e) {
      expect((e as Error).message).not.toContain(bad.privateKey);
    }
  });
});
