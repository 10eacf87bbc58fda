/**
 * EXTERNAL_KMS over the AWS KMS JSON protocol (@aws-sdk/client-kms): real AWS KMS, or another EKM's
 * AWS-compatible API. Every call is bound to `{"ekm:tenant": <tenant>}`, made once (no SDK retries: a
 * refusal must cut at once, and the caller's request waits for us) and within `timeoutMs`.
 *
 * Errors: ExternalKeyUnavailableError with a reason class only. The SDK's own error (its message can
 * carry the endpoint's words, its `$metadata` request ids) and the credentials never leave this file.
 */
import { Agent } from 'node:https';
import { DecryptCommand, EncryptCommand, KMSClient } from '@aws-sdk/client-kms';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { KeyMaterial } from '@ekm/crypto';
import {
  externalRootContext, ExternalKeyUnavailableError, type ExternalKeyReason, type ExternalKms, type ExternalRootTarget,
} from '../../application/tenant-roots/tenant-root.ports';

export interface AwsExternalKmsOptions {
  /** EKM_XKS_TIMEOUT_MS: one call's deadline (connect + response). */
  readonly timeoutMs: number;
  /**
   * EKM_XKS_ALLOWED_ENDPOINTS: the https origins this process may call. Checked before every call (not
   * only when a root is set): a tenant admin naming an internal address cannot make the keys service a
   * request forwarder into the operator's network, and an origin the operator removes stops being called.
   */
  readonly allowedEndpoints: readonly string[];
}

/** Whether `endpoint`'s origin is one of `allowed` (normalised origins); an unparseable endpoint is not. */
export function endpointAllowed(endpoint: string, allowed: readonly string[]): boolean {
  try {
    const u = new URL(endpoint);
    return u.protocol === 'https:' && u.username === '' && u.password === '' && allowed.includes(u.origin);
  } catch {
    return false;
  }
}

/** AWS exception names → reason class. Anything else the KMS answered is REFUSED. */
const BY_NAME: Readonly<Record<string, ExternalKeyReason>> = {
  AccessDeniedException: 'ACCESS_DENIED',
  UnrecognizedClientException: 'ACCESS_DENIED',
  InvalidSignatureException: 'ACCESS_DENIED',
  IncompleteSignature: 'ACCESS_DENIED',
  ExpiredTokenException: 'ACCESS_DENIED',
  DisabledException: 'KEY_DISABLED',
  KMSInvalidStateException: 'KEY_INVALID_STATE',
  KeyUnavailableException: 'KEY_INVALID_STATE',
  NotFoundException: 'KEY_NOT_FOUND',
  InvalidCiphertextException: 'INVALID_CIPHERTEXT',
  IncorrectKeyException: 'INVALID_CIPHERTEXT',
  InvalidKeyUsageException: 'KEY_INVALID_STATE',
  TimeoutError: 'TIMEOUT',
  RequestTimeout: 'TIMEOUT',
  RequestTimeoutException: 'TIMEOUT',
  DependencyTimeoutException: 'UNREACHABLE',
  KMSInternalException: 'UNREACHABLE',
  ThrottlingException: 'UNREACHABLE',
};

const NETWORK_CODES: ReadonlySet<string> = new Set(['ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'EPIPE', 'ERR_SSL_WRONG_VERSION_NUMBER']);

/** The reason class of an SDK failure (exported for its unit test). */
export function reasonOf(err: unknown): ExternalKeyReason {
  const e = err as { name?: unknown; code?: unknown; $metadata?: { httpStatusCode?: unknown } } | null;
  const name = typeof e?.name === 'string' ? e.name : '';
  if (Object.hasOwn(BY_NAME, name)) return BY_NAME[name]!;
  if (name === 'AbortError') return 'TIMEOUT';
  const code = typeof e?.code === 'string' ? e.code : '';
  if (code === 'ETIMEDOUT' || code === 'ESOCKETTIMEDOUT') return 'TIMEOUT';
  if (NETWORK_CODES.has(code) || code.startsWith('ERR_TLS') || code.includes('CERT')) return 'UNREACHABLE';
  if (e?.$metadata?.httpStatusCode === undefined) return 'UNREACHABLE';
  return 'REFUSED';
}

export class AwsExternalKms implements ExternalKms {
  constructor(private readonly opts: AwsExternalKmsOptions) {}

  allows(endpoint: string): boolean {
    return endpointAllowed(endpoint, this.opts.allowedEndpoints);
  }

  async encrypt(tenant: string, target: ExternalRootTarget, plaintext: KeyMaterial): Promise<Buffer> {
    const out = await this.call(tenant, target, (c, o) => plaintext.use((p) => c.send(new EncryptCommand({
      KeyId: target.keyId, Plaintext: Uint8Array.from(p), EncryptionContext: externalRootContext(tenant),
    }), o)));
    if (!(out.CiphertextBlob instanceof Uint8Array) || out.CiphertextBlob.length === 0) throw new ExternalKeyUnavailableError(tenant, 'INVALID_RESPONSE');
    return Buffer.from(out.CiphertextBlob);
  }

  async decrypt(tenant: string, target: ExternalRootTarget, ciphertext: Buffer): Promise<KeyMaterial> {
    const out = await this.call(tenant, target, (c, o) => c.send(new DecryptCommand({
      KeyId: target.keyId, CiphertextBlob: ciphertext, EncryptionContext: externalRootContext(tenant),
    }), o));
    const p = out.Plaintext;
    if (!(p instanceof Uint8Array) || p.length === 0) throw new ExternalKeyUnavailableError(tenant, 'INVALID_RESPONSE');
    const material = KeyMaterial.copyOf(p);
    p.fill(0);
    return material;
  }

  private async call<T>(tenant: string, target: ExternalRootTarget, fn: (c: KMSClient, o: { abortSignal: AbortSignal }) => Promise<T>): Promise<T> {
    if (!this.allows(target.endpoint)) throw new ExternalKeyUnavailableError(tenant, 'ENDPOINT_NOT_ALLOWED');
    const agent = new Agent({ keepAlive: false, ...(target.caPem !== undefined ? { ca: target.caPem } : {}) });
    const client = new KMSClient({
      endpoint: target.endpoint,
      region: target.region,
      maxAttempts: 1,
      credentials: { ...target.credentials },
      requestHandler: new NodeHttpHandler({ httpsAgent: agent, connectionTimeout: this.opts.timeoutMs, requestTimeout: this.opts.timeoutMs }),
    });
    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(), this.opts.timeoutMs);
    try {
      return await fn(client, { abortSignal: abort.signal });
    } catch (err) {
      if (err instanceof ExternalKeyUnavailableError) throw err;
      throw new ExternalKeyUnavailableError(tenant, abort.signal.aborted ? 'TIMEOUT' : reasonOf(err));
    } finally {
      clearTimeout(timer);
      client.destroy();
      agent.destroy();
    }
  }
}
