/**
 * AWS-style access keys of principals: one stream per key (`access-key-<id>`), plain-data events that
 * never carry the secret (it lives wrapped under the root of trust in `access_keys`, outside the log).
 * A principal holds at most two live keys, as AWS allows: rotation creates the second, then deletes the first.
 */
import type { EventMeta } from '@ekm/event-store';

export const MAX_ACCESS_KEYS_PER_PRINCIPAL = 2;

export type AccessKeyEvent =
  | Readonly<{ type: 'AccessKeyCreated'; data: { accessKeyId: string; principalId: string; tenant: string }; meta: EventMeta }>
  | Readonly<{ type: 'AccessKeyDeleted'; data: { accessKeyId: string; principalId: string; tenant: string; reason: string }; meta: EventMeta }>;

export type AccessKeyState =
  | { readonly status: 'Absent' }
  | { readonly status: 'Active' | 'Deleted'; readonly accessKeyId: string; readonly principalId: string; readonly tenant: string };

export type AccessKeyRejection =
  | { readonly code: 'ACCESS_KEY_EXISTS'; readonly accessKeyId: string }
  | { readonly code: 'ACCESS_KEY_NOT_FOUND'; readonly accessKeyId: string }
  | { readonly code: 'ACCESS_KEY_LIMIT'; readonly principalId: string; readonly active: number };

export type AccessKeyDecision = { ok: true; events: AccessKeyEvent[] } | { ok: false; rejection: AccessKeyRejection };

export function evolveAccessKey(s: AccessKeyState, e: AccessKeyEvent): AccessKeyState {
  switch (e.type) {
    case 'AccessKeyCreated':
      return { status: 'Active', accessKeyId: e.data.accessKeyId, principalId: e.data.principalId, tenant: e.data.tenant };
    case 'AccessKeyDeleted':
      return s.status === 'Absent' ? s : { ...s, status: 'Deleted' };
  }
}

export const foldAccessKey = (events: readonly AccessKeyEvent[]): AccessKeyState => events.reduce(evolveAccessKey, { status: 'Absent' } as AccessKeyState);

/** `activeOfPrincipal`: live keys the principal holds now (read from the projection by the caller). */
export function decideCreate(
  s: AccessKeyState, input: { accessKeyId: string; principalId: string; tenant: string; activeOfPrincipal: number }, meta: EventMeta,
): AccessKeyDecision {
  if (s.status !== 'Absent') return { ok: false, rejection: { code: 'ACCESS_KEY_EXISTS', accessKeyId: input.accessKeyId } };
  if (input.activeOfPrincipal >= MAX_ACCESS_KEYS_PER_PRINCIPAL) {
    return { ok: false, rejection: { code: 'ACCESS_KEY_LIMIT', principalId: input.principalId, active: input.activeOfPrincipal } };
  }
  return { ok: true, events: [{ type: 'AccessKeyCreated', data: { accessKeyId: input.accessKeyId, principalId: input.principalId, tenant: input.tenant }, meta }] };
}

export function decideDelete(s: AccessKeyState, accessKeyId: string, reason: string, meta: EventMeta): AccessKeyDecision {
  if (s.status !== 'Active') return { ok: false, rejection: { code: 'ACCESS_KEY_NOT_FOUND', accessKeyId } };
  return { ok: true, events: [{ type: 'AccessKeyDeleted', data: { accessKeyId, principalId: s.principalId, tenant: s.tenant, reason }, meta }] };
}
