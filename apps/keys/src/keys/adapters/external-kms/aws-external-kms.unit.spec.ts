import { KeyMaterial } from '@ekm/crypto';
import { AwsExternalKms, endpointAllowed, reasonOf } from './aws-external-kms';

const target = { endpoint: 'https://127.0.0.1:1', region: 'eu-west-1', keyId: 'k', credentials: { accessKeyId: 'AKIA', secretAccessKey: 'never-in-an-error-0123' } };

describe('AwsExternalKms', () => {
  it('classes SDK failures without their words', () => {
    const sdk = (name: string, status = 400) => Object.assign(new Error(`${name}: long message from the KMS`), { name, $metadata: { httpStatusCode: status } });
    expect(reasonOf(sdk('AccessDeniedException'))).toBe('ACCESS_DENIED');
    expect(reasonOf(sdk('DisabledException'))).toBe('KEY_DISABLED');
    expect(reasonOf(sdk('KMSInvalidStateException'))).toBe('KEY_INVALID_STATE');
    expect(reasonOf(sdk('NotFoundException'))).toBe('KEY_NOT_FOUND');
    expect(reasonOf(sdk('InvalidCiphertextException'))).toBe('INVALID_CIPHERTEXT');
    expect(reasonOf(sdk('SomethingNew'))).toBe('REFUSED');
    expect(reasonOf(Object.assign(new Error('connect'), { code: 'ECONNREFUSED' }))).toBe('UNREACHABLE');
    expect(reasonOf(Object.assign(new Error('t'), { code: 'ETIMEDOUT' }))).toBe('TIMEOUT');
    expect(reasonOf(Object.assign(new Error('a'), { name: 'AbortError' }))).toBe('TIMEOUT');
    expect(reasonOf(Object.assign(new Error('tls'), { code: 'DEPTH_ZERO_SELF_SIGNED_CERT' }))).toBe('UNREACHABLE');
  });

  it('an unreachable endpoint fails closed as UNREACHABLE and the error carries no credential', async () => {
    const kms = new AwsExternalKms({ timeoutMs: 2_000, allowedEndpoints: ['https://127.0.0.1:1'] });
    const err = await kms.encrypt('t', target, KeyMaterial.random(32)).catch((e: unknown) => e);
    expect(err).toMatchObject({ name: 'ExternalKeyUnavailableError', tenant: 't', reason: 'UNREACHABLE' });
    expect(JSON.stringify(err) + String(err) + (err as Error).stack).not.toContain('never-in-an-error');
  });

  it('calls only allowed origins: anything else fails closed as ENDPOINT_NOT_ALLOWED before any connection', async () => {
    const allowed = ['https://kms.example:8443', 'https://127.0.0.1:1'];
    expect(endpointAllowed('https://kms.example:8443', allowed)).toBe(true);
    expect(endpointAllowed('https://kms.example:8443/some/path', allowed)).toBe(true);
    expect(endpointAllowed('https://KMS.example:8443', allowed)).toBe(true);
    for (const bad of ['https://kms.example', 'https://kms.example:8444', 'http://kms.example:8443', 'https://kms.example:8443@169.254.169.254', 'https://user:pw@kms.example:8443', 'https://kms.example.evil:8443', 'not a url', '']) {
      expect(endpointAllowed(bad, allowed)).toBe(false);
    }
    expect(endpointAllowed('https://kms.example:8443', [])).toBe(false);
    // Nothing listens on the target's port: a connection attempt would give UNREACHABLE, not this.
    const kms = new AwsExternalKms({ timeoutMs: 2_000, allowedEndpoints: [] });
    await expect(kms.encrypt('t', target, KeyMaterial.random(32))).rejects.toMatchObject({ name: 'ExternalKeyUnavailableError', reason: 'ENDPOINT_NOT_ALLOWED' });
    await expect(kms.decrypt('t', target, Buffer.alloc(16, 1))).rejects.toMatchObject({ reason: 'ENDPOINT_NOT_ALLOWED' });
  });
});
