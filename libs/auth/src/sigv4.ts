/**
 * AWS Signature Version 4 (HMAC-SHA256), split between the HTTP edge and the policy service:
 * - the edge (apps/kms-api) parses the `Authorization` header and builds the canonical request and the
 *   string to sign from the bytes it received ({@link parseSigV4Authorization}, {@link sigV4StringToSign});
 * - the policy service, the only holder of access-key secrets, derives the signing key and compares
 *   ({@link verifySigV4}), so the edge never sees a secret.
 * Scheme: https://docs.aws.amazon.com/IAM/latest/UserGuide/create-signed-request.html
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

/** The one algorithm EKM accepts. */
export const SIGV4_ALGORITHM = 'AWS4-HMAC-SHA256';
/** AWS's allowed clock difference, both ways. A replayed signature is refused inside twice this window. */
export const SIGV4_MAX_SKEW_MS = 5 * 60_000;
/** Access key ids: `@ekm/contracts`' ACCESS_KEY_ID_PATTERN (the rule of the access-key request schemas). */
export { ACCESS_KEY_ID_PATTERN } from '@ekm/contracts';

/** The parts of `Authorization: AWS4-HMAC-SHA256 Credential=..., SignedHeaders=..., Signature=...`. */
export interface SigV4Authorization {
  readonly accessKeyId: string;
  /** `YYYYMMDD` of the credential scope. */
  readonly date: string;
  readonly region: string;
  readonly service: string;
  /** Lower-case, sorted as sent. */
  readonly signedHeaders: readonly string[];
  /** 64 hex characters. */
  readonly signature: string;
}

const AUTH_PATTERN = /^AWS4-HMAC-SHA256 +Credential=([^/,\s]+)\/(\d{8})\/([a-z0-9-]{1,32})\/([a-z0-9-]{1,32})\/aws4_request, *SignedHeaders=([a-z0-9;-]{1,2048}), *Signature=([0-9a-f]{64})$/;

/** Parses the header; `null` when it is not a well-formed SigV4 header. */
export function parseSigV4Authorization(header: string | undefined): SigV4Authorization | null {
  if (header === undefined || header.length > 4096) return null;
  const m = AUTH_PATTERN.exec(header.trim());
  if (!m) return null;
  return { accessKeyId: m[1]!, date: m[2]!, region: m[3]!, service: m[4]!, signedHeaders: m[5]!.split(';'), signature: m[6]! };
}

/** Milliseconds since the epoch of an `X-Amz-Date` (`YYYYMMDDTHHMMSSZ`); `null` when malformed. */
export function parseAmzDate(value: string | undefined): number | null {
  const m = value === undefined ? null : /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(value);
  if (!m) return null;
  const t = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6]));
  return Number.isFinite(t) ? t : null;
}

/** Input of {@link sigV4StringToSign}: the request as received. */
export interface SigV4Request {
  readonly method: string;
  /** Path as sent (the KMS protocol only uses `/`). */
  readonly path: string;
  /** Raw query string without `?` (empty for KMS). */
  readonly query: string;
  /** Header lookup by lower-case name. */
  readonly header: (name: string) => string | undefined;
  readonly body: Buffer;
  readonly amzDate: string;
  readonly auth: SigV4Authorization;
}

const sha256Hex = (data: string | Buffer): string => createHash('sha256').update(data).digest('hex');
const rfc3986 = (s: string): string => encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

function canonicalQuery(query: string): string {
  if (query === '') return '';
  return query.split('&').filter((p) => p !== '').map((p) => {
    const i = p.indexOf('=');
    const [k, v] = i < 0 ? [p, ''] : [p.slice(0, i), p.slice(i + 1)];
    return [rfc3986(decodeURIComponent(k)), rfc3986(decodeURIComponent(v))] as const;
  }).sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0)).map(([k, v]) => `${k}=${v}`).join('&');
}

/**
 * The canonical request and the string to sign, from the received bytes. `null` when a signed header is
 * missing, `host` is not signed, or a signed `x-amz-content-sha256` differs from the body's hash.
 */
export function sigV4StringToSign(r: SigV4Request): string | null {
  const headers: string[] = [];
  for (const name of r.auth.signedHeaders) {
    const value = r.header(name);
    if (value === undefined) return null;
    headers.push(`${name}:${value.trim().replace(/\s+/g, ' ')}\n`);
  }
  if (!r.auth.signedHeaders.includes('host')) return null;
  const bodyHash = sha256Hex(r.body);
  const declared = r.header('x-amz-content-sha256');
  if (declared !== undefined && declared !== 'UNSIGNED-PAYLOAD' && declared !== bodyHash) return null;
  const canonical = [r.method.toUpperCase(), r.path === '' ? '/' : r.path, canonicalQuery(r.query), headers.join(''), r.auth.signedHeaders.join(';'), bodyHash].join('\n');
  return [SIGV4_ALGORITHM, r.amzDate, sigV4Scope(r.auth), sha256Hex(canonical)].join('\n');
}

/** `date/region/service/aws4_request`. */
export function sigV4Scope(a: Pick<SigV4Authorization, 'date' | 'region' | 'service'>): string {
  return `${a.date}/${a.region}/${a.service}/aws4_request`;
}

/** The SigV4 signature of `stringToSign` under `secret` (the client's computation; tests and verification). */
export function sigV4Signature(secret: string, scope: Pick<SigV4Authorization, 'date' | 'region' | 'service'>, stringToSign: string): string {
  const hmac = (key: string | Buffer, data: string): Buffer => createHmac('sha256', key).update(data, 'utf8').digest();
  const kSigning = hmac(hmac(hmac(hmac(`AWS4${secret}`, scope.date), scope.region), scope.service), 'aws4_request');
  return createHmac('sha256', kSigning).update(stringToSign, 'utf8').digest('hex');
}

/** Constant-time check of `signature` (hex) against the one `secret` gives. */
export function verifySigV4(secret: string, scope: Pick<SigV4Authorization, 'date' | 'region' | 'service'>, stringToSign: string, signature: string): boolean {
  const expected = Buffer.from(sigV4Signature(secret, scope, stringToSign), 'hex');
  const given = Buffer.from(signature, 'hex');
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/** Why a string to sign does not belong to its claimed scope and time; `null` when consistent. */
export function sigV4ScopeProblem(stringToSign: string, scope: Pick<SigV4Authorization, 'date' | 'region' | 'service'>): string | null {
  const lines = stringToSign.split('\n');
  if (lines.length !== 4 || lines[0] !== SIGV4_ALGORITHM) return 'not an AWS4-HMAC-SHA256 string to sign';
  if (parseAmzDate(lines[1]) === null) return 'the request time is not an X-Amz-Date';
  if (!lines[1]!.startsWith(scope.date)) return 'the credential scope date is not the request date';
  if (lines[2] !== sigV4Scope(scope)) return 'the credential scope does not match';
  if (!/^[0-9a-f]{64}$/.test(lines[3]!)) return 'the canonical request hash is malformed';
  return null;
}
