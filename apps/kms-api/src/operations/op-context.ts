/** What every operation gets, and the AWS-shaped input readers (typed ValidationException on bad input). */
import { CryptoClient, KeysClient, type KeyInfo } from '@ekm/client';
import type { AwsCaller } from '../auth/sigv4-sessions';
import { AwsError, validation } from '../protocol/aws-error';
import { accountOf, keyArn, parseKeyRef } from '../protocol/key-refs';

export interface OpContext {
  readonly operation: string;
  readonly caller: AwsCaller;
  readonly keys: KeysClient;
  readonly crypto: CryptoClient;
  /** The idempotency key of the bus call(s) of this request (the `x-amzn-RequestId`). */
  readonly requestId: string;
  readonly defaultTenant: string;
}

export type Body = Readonly<Record<string, unknown>>;
export type Operation = (ctx: OpContext, body: Body) => Promise<object>;

export function contextOf(operation: string, caller: AwsCaller, requestId: string, defaultTenant: string): OpContext {
  return { operation, caller, keys: new KeysClient(caller.client), crypto: new CryptoClient(caller.client), requestId, defaultTenant };
}

export function optString(b: Body, field: string, max = 8192): string | undefined {
  const v = b[field];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string' || v.length > max) throw validation(`${field} must be a string of at most ${max} characters`);
  return v;
}

export function reqString(b: Body, field: string, max = 8192): string {
  const v = optString(b, field, max);
  if (v === undefined) throw validation(`1 validation error detected: Value null at '${field[0]!.toLowerCase()}${field.slice(1)}' failed to satisfy constraint: Member must not be null`);
  return v;
}

export function optInt(b: Body, field: string, min: number, max: number): number | undefined {
  const v = b[field];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) throw validation(`${field} must be an integer from ${min} to ${max}`);
  return v;
}

/** A base64 blob field (the JSON 1.1 protocol sends bytes as base64). */
export function optBlob(b: Body, field: string, maxBytes: number): Buffer | undefined {
  const v = optString(b, field, Math.ceil((maxBytes * 4) / 3) + 4);
  if (v === undefined) return undefined;
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(v)) throw validation(`${field} must be base64`);
  const bytes = Buffer.from(v, 'base64');
  if (bytes.length === 0 || bytes.length > maxBytes) throw validation(`${field} must be 1 to ${maxBytes} bytes`);
  return bytes;
}

export function reqBlob(b: Body, field: string, maxBytes: number): Buffer {
  const v = optBlob(b, field, maxBytes);
  if (v === undefined) throw validation(`${field} is required`);
  return v;
}

/** `EncryptionContext`-like string maps. */
export function optStringMap(b: Body, field: string): Record<string, string> | undefined {
  const v = b[field];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'object' || Array.isArray(v)) throw validation(`${field} must be a map of strings`);
  const out: Record<string, string> = {};
  for (const [k, val] of Object.entries(v as Record<string, unknown>)) {
    if (typeof val !== 'string') throw validation(`${field}.${k} must be a string`);
    out[k] = val;
  }
  return out;
}

/** `Tags: [{TagKey, TagValue}]` → a map. */
export function optTags(b: Body, field = 'Tags'): Record<string, string> | undefined {
  const v = b[field];
  if (v === undefined || v === null) return undefined;
  if (!Array.isArray(v) || v.length > 50) throw new AwsError('TagException', `${field} must be a list of at most 50 {TagKey, TagValue}`);
  const out: Record<string, string> = {};
  for (const t of v as unknown[]) {
    const tag = t as { TagKey?: unknown; TagValue?: unknown };
    if (typeof tag !== 'object' || tag === null || typeof tag.TagKey !== 'string' || typeof tag.TagValue !== 'string' || tag.TagKey.length < 1 || tag.TagKey.length > 128 || tag.TagValue.length > 256) {
      throw new AwsError('TagException', 'each tag needs TagKey (1..128 characters) and TagValue (0..256 characters)');
    }
    out[tag.TagKey] = tag.TagValue;
  }
  return out;
}

/** The keys-service reference of a key field; an ARN of another account is NotFoundException (another tenant). */
export function keyRefOf(ctx: OpContext, b: Body, field = 'KeyId', allowAlias = true): string {
  const r = parseKeyRef(field, b[field], allowAlias);
  if (r.account !== undefined && ctx.caller.tenant !== '*' && r.account !== accountOf(ctx.caller.tenant)) {
    throw new AwsError('NotFoundException', `${field} names a key of another account`);
  }
  return r.ref;
}

export const arnOf = (ctx: OpContext, k: Pick<KeyInfo, 'keyId' | 'tenant'>): string => keyArn(ctx.caller.region, k.tenant, k.keyId);

/** Epoch seconds, as the JSON protocol sends timestamps. */
export const epochSeconds = (iso: string): number => Date.parse(iso) / 1000;

/** Bus calls of this request carry its id (a mutation retried by the SDK happens once per AWS request). */
export const callOpts = (ctx: OpContext, suffix = ''): { requestId: string } => ({ requestId: `${ctx.requestId}${suffix}` });
