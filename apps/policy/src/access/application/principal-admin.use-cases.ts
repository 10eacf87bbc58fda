/**
 * Principal administration: create (returns the credential once), list/get, revoke, rotate and revoke
 * credentials. Every operation is checked with the built-in admin rule first (caller's tenant and role).
 */
import { createHash } from 'node:crypto';
import type { IssuedCredentialReply, PrincipalInfoReply } from '@ekm/contracts';
import type { EventStore, InlineProjection } from '@ekm/event-store';
import {
  canAdminister, decidePrincipal, foldPrincipal, type AdminScope, type CommandMeta, type ExistingPrincipal, type PrincipalCommand,
  type PrincipalEvent, type PrincipalKind, type PrincipalRejection, type PrincipalState,
} from '../domain';
import type { AccessDirectory, CredentialIssuer, DirectoryPrincipal } from './access.ports';
import { principalStreamId, runStreamCommand } from './access-streams';

export type AdminFailure =
  | { kind: 'FORBIDDEN'; reason: string }
  /** `foreignTenant`: it exists, in a tenant the caller may not administer (replied as not found, audited as denied). */
  | { kind: 'NOT_FOUND'; what: string; foreignTenant?: string }
  | { kind: 'DUPLICATE_REQUEST'; what: string }
  | { kind: 'REJECTED'; rejection: PrincipalRejection };

export type AdminResult<T> = { ok: true; value: T } | { ok: false; failure: AdminFailure };

/** A principal as administrators see it: no verifiers beyond ids and dates (the wire contract's type). */
export type PrincipalInfo = PrincipalInfoReply;

/** The credential shown once: `privateKey` is SECRET (goes only into the reply, never into events or logs). */
export type IssuedCredentialFile = Omit<IssuedCredentialReply, 'serviceKey'>;

export interface CreatePrincipalInput {
  readonly tenant: string;
  readonly roles: readonly string[];
  readonly kind: PrincipalKind;
  readonly name: string;
}

/**
 * A UUID-shaped principal id derived from the creating caller and its request id, so a retried create
 * names the same principal, while another caller presenting the same request id names another one (it
 * never lands on, or learns the id of, someone else's principal).
 */
export function principalIdFor(creator: string, requestId: string): string {
  const h = createHash('sha256').update('ekm/principal/').update(creator).update('\n').update(requestId).digest('hex');
  return `p-${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

export function toPrincipalInfo(p: ExistingPrincipal | DirectoryPrincipal): PrincipalInfo {
  const creds = p.credentials instanceof Map ? [...p.credentials.values()] : (p.credentials as DirectoryPrincipal['credentials']);
  return {
    principalId: p.principalId, tenant: p.tenant, roles: p.roles, kind: p.kind, name: p.name, status: p.status, createdAt: p.createdAt,
    credentials: creds.map((c) => ({ credentialId: c.credentialId, issuedAt: c.issuedAt, status: c.status, validUntil: c.validUntil })),
  };
}

const forbidden = (caller: AdminScope, what: string): AdminResult<never> => ({ ok: false, failure: { kind: 'FORBIDDEN', reason: `${caller.principalId} may not ${what}: administration needs role admin in that tenant (or operator scope)` } });

export class PrincipalAdmin {
  constructor(
    private readonly store: EventStore,
    private readonly inline: readonly InlineProjection[],
    private readonly directory: AccessDirectory,
    private readonly issuer: CredentialIssuer,
  ) {}

  async create(caller: AdminScope, input: CreatePrincipalInput, meta: CommandMeta): Promise<AdminResult<{ principal: PrincipalInfo; credential: IssuedCredentialFile }>> {
    if (!canAdminister(caller, input.tenant)) return forbidden(caller, `create principals in tenant ${input.tenant}`);
    const principalId = principalIdFor(caller.principalId, meta.commandId ?? meta.correlationId ?? `${meta.now}/${Math.random()}`);
    const credential = this.issuer.issue();
    const cmd: PrincipalCommand = { type: 'CreatePrincipal', data: { principalId, tenant: input.tenant, roles: [...input.roles], kind: input.kind, name: input.name, credential: { credentialId: credential.credentialId, publicKey: credential.publicKey } }, meta };
    const r = await this.run(cmd);
    if (!r.ok) return r;
    if (r.duplicate) return { ok: false, failure: { kind: 'DUPLICATE_REQUEST', what: `principal ${principalId} was already created by this request id; its credential was shown once (rotate it to get a new one)` } };
    return { ok: true, value: { principal: toPrincipalInfo(r.state), credential: { principalId, credentialId: credential.credentialId, privateKey: credential.privateKey } } };
  }

  list(caller: AdminScope, tenant?: string): AdminResult<PrincipalInfo[]> {
    if (tenant !== undefined && !canAdminister(caller, tenant)) return forbidden(caller, `list principals of tenant ${tenant}`);
    const all = [...this.directory.current().principals.values()]
      .filter((p) => (tenant === undefined || p.tenant === tenant) && canAdminister(caller, p.tenant))
      .sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.principalId.localeCompare(b.principalId));
    return { ok: true, value: all.map(toPrincipalInfo) };
  }

  get(caller: AdminScope, principalId: string): AdminResult<PrincipalInfo> {
    const p = this.directory.current().principals.get(principalId);
    // Another tenant's principal is "not found": its existence is not revealed.
    if (p === undefined) return { ok: false, failure: { kind: 'NOT_FOUND', what: `principal ${principalId}` } };
    if (!canAdminister(caller, p.tenant)) return { ok: false, failure: { kind: 'NOT_FOUND', what: `principal ${principalId}`, foreignTenant: p.tenant } };
    return { ok: true, value: toPrincipalInfo(p) };
  }

  async revoke(caller: AdminScope, principalId: string, reason: string, meta: CommandMeta): Promise<AdminResult<PrincipalInfo>> {
    return this.onExisting(caller, principalId, { type: 'RevokePrincipal', data: { principalId, reason }, meta });
  }

  async revokeCredential(caller: AdminScope, principalId: string, credentialId: string, reason: string, meta: CommandMeta): Promise<AdminResult<PrincipalInfo>> {
    return this.onExisting(caller, principalId, { type: 'RevokeCredential', data: { principalId, credentialId, reason }, meta });
  }

  async rotateCredential(caller: AdminScope, principalId: string, graceSeconds: number, meta: CommandMeta): Promise<AdminResult<{ principal: PrincipalInfo; credential: IssuedCredentialFile }>> {
    const credential = this.issuer.issue();
    const r = await this.onExisting(caller, principalId, { type: 'RotateCredential', data: { principalId, credential: { credentialId: credential.credentialId, publicKey: credential.publicKey }, graceSeconds }, meta }, true);
    if (!r.ok) return r;
    return { ok: true, value: { principal: r.value, credential: { principalId, credentialId: credential.credentialId, privateKey: credential.privateKey } } };
  }

  private async onExisting(caller: AdminScope, principalId: string, cmd: PrincipalCommand, refuseDuplicate = false): Promise<AdminResult<PrincipalInfo>> {
    const state = foldPrincipal((await this.store.readStream(principalStreamId(principalId))).map((e) => e as unknown as PrincipalEvent));
    if (state.status === 'Absent') return { ok: false, failure: { kind: 'NOT_FOUND', what: `principal ${principalId}` } };
    if (!canAdminister(caller, state.tenant)) return { ok: false, failure: { kind: 'NOT_FOUND', what: `principal ${principalId}`, foreignTenant: state.tenant } };
    const r = await this.run(cmd);
    if (!r.ok) return r;
    if (r.duplicate && refuseDuplicate) return { ok: false, failure: { kind: 'DUPLICATE_REQUEST', what: 'this request id already rotated the credential; the new credential was shown once' } };
    return { ok: true, value: toPrincipalInfo(r.state) };
  }

  private async run(cmd: PrincipalCommand): Promise<{ ok: true; state: ExistingPrincipal; duplicate: boolean } | { ok: false; failure: AdminFailure }> {
    const r = await runStreamCommand<PrincipalEvent, PrincipalState, PrincipalRejection>(this.store, this.inline, {
      streamId: principalStreamId(cmd.data.principalId),
      ...(cmd.meta.commandId !== undefined ? { commandId: cmd.meta.commandId } : {}),
      fold: foldPrincipal,
      decide: (s) => decidePrincipal(cmd, s),
    });
    if (!r.ok) return { ok: false, failure: { kind: 'REJECTED', rejection: r.rejection } };
    await this.directory.refresh();
    if (r.state.status === 'Absent') throw new Error('programmer error: an accepted principal command left no principal');
    return { ok: true, state: r.state, duplicate: r.duplicate };
  }
}
