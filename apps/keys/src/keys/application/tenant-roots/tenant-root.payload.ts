/**
 * The bytes inside a tenant root row's epoch wrap. A tag byte says which kind: the wrap authenticates
 * the whole payload, so a database edit cannot turn an external root into a local one, point it at
 * another KMS endpoint (where the credentials would go) or move it to another tenant.
 *   0x01 || TRK (32 bytes)                          local root
 *   0x02 || UTF-8 JSON {v, tenant, endpoint, region, keyId, credentials, caPem?, ciphertext(base64)}   external root
 */
import { KEK_LENGTH } from '@ekm/crypto';
import type { ExternalCredentials, ExternalRootTarget } from './tenant-root.ports';

const LOCAL = 0x01;
const EXTERNAL = 0x02;

export type TenantRootPayload =
  | { readonly kind: 'LOCAL'; readonly trk: Buffer }
  | { readonly kind: 'EXTERNAL'; readonly tenant: string; readonly target: ExternalRootTarget; readonly ciphertext: Buffer };

/** The stored payload is not one this version wrote (an edited row, or a newer format). */
export class TenantRootPayloadInvalidError extends Error {
  override readonly name = 'TenantRootPayloadInvalidError';
  constructor(readonly tenant: string) {
    super(`the root key row of tenant ${tenant} is malformed`);
  }
}

export function encodeLocalRoot(trk: Buffer): Buffer {
  if (trk.length !== KEK_LENGTH) throw new RangeError(`a tenant root key is ${KEK_LENGTH} bytes`);
  return Buffer.concat([Buffer.of(LOCAL), trk]);
}

export function encodeExternalRoot(tenant: string, target: ExternalRootTarget, ciphertext: Buffer): Buffer {
  const { endpoint, region, keyId, credentials, caPem } = target;
  const creds: ExternalCredentials = {
    accessKeyId: credentials.accessKeyId, secretAccessKey: credentials.secretAccessKey,
    ...(credentials.sessionToken !== undefined ? { sessionToken: credentials.sessionToken } : {}),
  };
  const json = JSON.stringify({ v: 1, tenant, endpoint, region, keyId, credentials: creds, ...(caPem !== undefined ? { caPem } : {}), ciphertext: ciphertext.toString('base64') });
  return Buffer.concat([Buffer.of(EXTERNAL), Buffer.from(json, 'utf8')]);
}

const isText = (v: unknown): v is string => typeof v === 'string' && v.length > 0;

/** Decodes a payload of `tenant`'s row; the returned `trk` is a copy the caller zeroes. */
export function decodeRoot(tenant: string, bytes: Buffer): TenantRootPayload {
  const bad = () => new TenantRootPayloadInvalidError(tenant);
  if (bytes.length < 1) throw bad();
  if (bytes[0] === LOCAL) {
    if (bytes.length !== 1 + KEK_LENGTH) throw bad();
    return { kind: 'LOCAL', trk: Buffer.from(bytes.subarray(1)) };
  }
  if (bytes[0] !== EXTERNAL) throw bad();
  let p: Record<string, unknown>;
  try {
    p = JSON.parse(bytes.subarray(1).toString('utf8')) as Record<string, unknown>;
  } catch {
    throw bad();
  }
  const c = (p?.credentials ?? null) as Record<string, unknown> | null;
  if (p === null || typeof p !== 'object' || p.v !== 1 || p.tenant !== tenant || !isText(p.endpoint) || !isText(p.region) || !isText(p.keyId) || !isText(p.ciphertext)
    || (p.caPem !== undefined && !isText(p.caPem)) || c === null || typeof c !== 'object' || !isText(c.accessKeyId) || !isText(c.secretAccessKey) || (c.sessionToken !== undefined && !isText(c.sessionToken))) {
    throw bad();
  }
  const credentials: ExternalCredentials = { accessKeyId: c.accessKeyId, secretAccessKey: c.secretAccessKey, ...(isText(c.sessionToken) ? { sessionToken: c.sessionToken } : {}) };
  const target: ExternalRootTarget = { endpoint: p.endpoint, region: p.region, keyId: p.keyId, credentials, ...(isText(p.caPem) ? { caPem: p.caPem } : {}) };
  return { kind: 'EXTERNAL', tenant, target, ciphertext: Buffer.from(p.ciphertext, 'base64') };
}
