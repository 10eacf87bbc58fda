/**
 * Access-key administration: create (the secret is returned once and stored only wrapped under the root
 * of trust), list (ids and dates, never secrets), delete (the wrapped secret is dropped in the same
 * transaction as the AccessKeyDeleted event). Allowed to an admin of the principal's tenant (or operator
 * scope) and to the principal itself for its own keys; another tenant's principal is "not found".
 */
import { createHash, randomBytes } from 'node:crypto';
import type { AccessKeyInfoReply, IssuedAccessKeyReply } from '@ekm/contracts';
import { ConcurrencyConflictError, ExpectedVersion, type EventStore } from '@ekm/event-store';
import { canAdminister, type AdminScope, type CommandMeta } from '../../access/domain';
import type { AccessDirectory } from '../../access/application/access.ports';
import { decideCreate, decideDelete, foldAccessKey, type AccessKeyDecision, type AccessKeyEvent, type AccessKeyRejection } from '../domain/access-key.decide';
import type { AccessKeyRow, AccessKeyStore, SecretBox } from './access-key.ports';

export const accessKeyStreamId = (accessKeyId: string): string => `access-key-${accessKeyId}`;

/** What administrators see (never the secret), and the key shown once: the wire contract's types. */
export type AccessKeyInfo = AccessKeyInfoReply;
export type IssuedAccessKey = IssuedAccessKeyReply;

export type AccessKeyFailure =
  | { kind: 'NOT_FOUND'; what: string }
  | { kind: 'DUPLICATE_REQUEST'; what: string }
  | { kind: 'REJECTED'; rejection: AccessKeyRejection };

export type AccessKeyResult<T> = { ok: true; value: T } | { ok: false; failure: AccessKeyFailure };

const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/** `AKIA` + 16 base32 characters derived from the request id, so a retried create names the same key. */
export function accessKeyIdFor(requestId: string): string {
  const h = createHash('sha256').update('ekm/access-key/').update(requestId).digest();
  let id = 'AKIA';
  for (let i = 0; i < 16; i++) id += BASE32[h[i]! & 31];
  return id;
}

/** The 40-character secret (AWS's length) the client signs with, from the 32 stored bytes. */
export const secretStringOf = (material: Buffer): string => material.toString('base64').slice(0, 40);

export const toAccessKeyInfo = (r: AccessKeyRow): AccessKeyInfo => ({
  accessKeyId: r.accessKeyId, principalId: r.principalId, tenant: r.tenant, status: r.deletedAt === null ? 'Active' : 'Deleted', createdAt: r.createdAt, deletedAt: r.deletedAt,
});

export class AccessKeyAdmin {
  constructor(
    private readonly events: EventStore,
    private readonly keys: AccessKeyStore,
    private readonly box: SecretBox,
    private readonly directory: AccessDirectory,
  ) {}

  async create(caller: AdminScope, principalId: string, meta: CommandMeta): Promise<AccessKeyResult<IssuedAccessKey>> {
    const p = this.directory.current().principals.get(principalId);
    if (p === undefined || p.status !== 'Active' || !this.mayManage(caller, principalId, p.tenant)) return notFound(`principal ${principalId}`);
    const accessKeyId = accessKeyIdFor(meta.commandId ?? meta.correlationId ?? randomBytes(16).toString('hex'));
    const active = (await this.keys.listOfPrincipal(principalId)).filter((k) => k.deletedAt === null).length;
    const material = randomBytes(32);
    try {
      const wrappedSecret = await this.box.wrap(material);
      const r = await this.run(accessKeyId, meta, (s) => decideCreate(s, { accessKeyId, principalId, tenant: p.tenant, activeOfPrincipal: active }, meta),
        (tx) => this.keys.insert(tx, { accessKeyId, principalId, tenant: p.tenant, wrappedSecret, createdAt: meta.now }));
      if (!r.ok) return r;
      if (r.duplicate) return { ok: false, failure: { kind: 'DUPLICATE_REQUEST', what: `access key ${accessKeyId} was already created by this request id; its secret was shown once (create another one)` } };
      return { ok: true, value: { accessKeyId, principalId, tenant: p.tenant, status: 'Active', createdAt: meta.now, deletedAt: null, secretAccessKey: secretStringOf(material) } };
    } finally {
      material.fill(0);
    }
  }

  async list(caller: AdminScope, principalId: string): Promise<AccessKeyResult<AccessKeyInfo[]>> {
    const p = this.directory.current().principals.get(principalId);
    if (p === undefined || !this.mayManage(caller, principalId, p.tenant)) return notFound(`principal ${principalId}`);
    return { ok: true, value: (await this.keys.listOfPrincipal(principalId)).map(toAccessKeyInfo) };
  }

  async delete(caller: AdminScope, accessKeyId: string, reason: string, meta: CommandMeta): Promise<AccessKeyResult<AccessKeyInfo>> {
    const row = await this.keys.get(accessKeyId);
    if (row === null || !this.mayManage(caller, row.principalId, row.tenant)) return notFound(`access key ${accessKeyId}`);
    const r = await this.run(accessKeyId, meta, (s) => decideDelete(s, accessKeyId, reason, meta), (tx) => this.keys.markDeleted(tx, accessKeyId, meta.now));
    if (!r.ok) return r;
    return { ok: true, value: { ...toAccessKeyInfo(row), status: 'Deleted', deletedAt: r.duplicate ? row.deletedAt : meta.now } };
  }

  private mayManage(caller: AdminScope, principalId: string, tenant: string): boolean {
    return caller.principalId === principalId || canAdminister(caller, tenant);
  }

  private async run(
    accessKeyId: string, meta: CommandMeta, decide: (s: ReturnType<typeof foldAccessKey>) => AccessKeyDecision,
    alsoInTransaction: Parameters<EventStore['appendToStream']>[2]['alsoInTransaction'],
  ): Promise<{ ok: true; duplicate: boolean } | { ok: false; failure: AccessKeyFailure }> {
    const streamId = accessKeyStreamId(accessKeyId);
    for (let attempt = 1; ; attempt++) {
      const recorded = await this.events.readStream(streamId);
      if (meta.commandId !== undefined && recorded.some((e) => e.meta.commandId === meta.commandId)) return { ok: true, duplicate: true };
      const d = decide(foldAccessKey(recorded.map((e) => ({ type: e.type, data: e.data, meta: e.meta }) as unknown as AccessKeyEvent)));
      if (!d.ok) return { ok: false, failure: { kind: 'REJECTED', rejection: d.rejection } };
      try {
        const r = await this.events.appendToStream(streamId, d.events as never, {
          expectedVersion: ExpectedVersion.fromVersion(recorded.length), ...(meta.commandId !== undefined ? { commandId: meta.commandId } : {}), ...(alsoInTransaction ? { alsoInTransaction } : {}),
        });
        return { ok: true, duplicate: r.duplicate };
      } catch (err) {
        if (!(err instanceof ConcurrencyConflictError) || attempt >= 3) throw err;
      }
    }
  }
}

const notFound = (what: string): AccessKeyResult<never> => ({ ok: false, failure: { kind: 'NOT_FOUND', what } });
