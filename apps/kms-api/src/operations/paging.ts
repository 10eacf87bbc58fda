/** AWS pagination (`Limit`, `Marker` → `Truncated`, `NextMarker`) over lists EKM answers whole. */
import { AwsError } from '../protocol/aws-error';
import { optInt, optString, type Body } from './op-context';

const PREFIX = 'ekm-o:';

/** One page of `items` per the request's Limit (1..`max`, default `def`) and Marker. */
export function page<T>(items: readonly T[], b: Body, def = 100, max = 1000): { items: T[]; Truncated: boolean; NextMarker?: string } {
  const limit = optInt(b, 'Limit', 1, max) ?? def;
  const marker = optString(b, 'Marker', 1024);
  let start = 0;
  if (marker !== undefined) {
    const decoded = Buffer.from(marker, 'base64url').toString('utf8');
    const n = decoded.startsWith(PREFIX) ? Number(decoded.slice(PREFIX.length)) : NaN;
    if (!Number.isSafeInteger(n) || n < 0 || n > items.length) throw new AwsError('InvalidMarkerException', 'Marker is not one this API returned');
    start = n;
  }
  const end = Math.min(items.length, start + limit);
  const truncated = end < items.length;
  return { items: items.slice(start, end), Truncated: truncated, ...(truncated ? { NextMarker: Buffer.from(`${PREFIX}${end}`).toString('base64url') } : {}) };
}
