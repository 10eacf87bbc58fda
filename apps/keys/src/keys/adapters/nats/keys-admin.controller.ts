/**
 * Lifecycle request/reply handlers (`ekm.v1.keys.<op>`): create, describe, list, versions, rotate,
 * enable/disable, revoke, deletion. Controllers only translate: validate, build the command, run it,
 * map the result; every call goes through AdminCallRunner (authz, usage record, error mapping).
 */
import { Controller, Inject } from '@nestjs/common';
import { Ctx, MessagePattern, NatsContext, Payload } from '@nestjs/microservices';
import { ok, subject, type Reply, type KeyInfoReply, type KeyPageReply, type KeyVersionsReply } from '@ekm/contracts';
import { toKeyInfo, USAGE_OF_SPEC, type KeyInfo, type KeyVersionInfo } from '../../domain';
import { KeyAdminUseCases } from '../../application/key-admin.use-cases';
import { KEY_STATE_READER, type KeyStateReader } from '../../application/ports';
import { PgImportTokenStore } from '../postgres/import-token.store';
import { KeyListQuery } from '../postgres/key-list.query';
import { AdminCallRunner } from './admin-call.runner';
import { KeyCommandReplies, outcomeReply } from './key-command.reply';
import { rejectionReply } from '../../application/call-failures';
import {
  CreateKeyRequest, DestroyKeyRequest, KeyRefRequest, ListKeysRequest, RevokeKeyRequest, RotateKeyRequest, ScheduleDeletionRequest, withAliasPrefix,
} from '@ekm/contracts';
import { DbClock } from '../postgres/db-clock';

const byId = { schema: KeyRefRequest, keyRef: (r: { keyId: string }) => r.keyId };

@Controller()
export class KeysAdminController {
  constructor(
    private readonly calls: AdminCallRunner,
    private readonly commands: KeyCommandReplies,
    private readonly useCases: KeyAdminUseCases,
    private readonly list: KeyListQuery,
    private readonly tokens: PgImportTokenStore,
    @Inject(KEY_STATE_READER) private readonly reader: KeyStateReader,
    private readonly clock: DbClock,
  ) {}

  @MessagePattern(subject('keys', 'create-key'))
  createKey(@Payload() body: unknown, @Ctx() ctx: NatsContext): Promise<Reply<KeyInfoReply>> {
    return this.calls.run(body, ctx, {
      operation: 'CreateKey', schema: CreateKeyRequest,
      resource: (r) => ({ tenant: r.tenant, ...(r.tags ? { tags: r.tags } : {}) }),
      run: async (r, call) => outcomeReply(await this.useCases.createKey({ ...r, usage: r.usage ?? USAGE_OF_SPEC[r.spec] }, call)),
    });
  }

  @MessagePattern(subject('keys', 'describe-key'))
  describeKey(@Payload() body: unknown, @Ctx() ctx: NatsContext): Promise<Reply<KeyInfoReply>> {
    return this.calls.run(body, ctx, { operation: 'DescribeKey', ...byId, run: (_r, call) => this.describe(call.keyId) });
  }

  @MessagePattern(subject('keys', 'list-key-versions'))
  listKeyVersions(@Payload() body: unknown, @Ctx() ctx: NatsContext): Promise<Reply<KeyVersionsReply>> {
    return this.calls.run(body, ctx, {
      operation: 'ListKeyVersions', ...byId,
      run: async (_r, call) => {
        const info = await this.describe(call.keyId);
        return info.ok ? ok({ keyId: info.data.keyId, versions: info.data.versions }) : info;
      },
    });
  }

  @MessagePattern(subject('keys', 'list-keys'))
  listKeys(@Payload() body: unknown, @Ctx() ctx: NatsContext): Promise<Reply<KeyPageReply>> {
    return this.calls.run(body, ctx, {
      operation: 'ListKeys', schema: ListKeysRequest,
      resource: (r) => (r.tenant !== undefined ? { tenant: r.tenant } : {}),
      run: async (r) => {
        const tag = typeof r.tag === 'string' ? { key: r.tag.slice(0, r.tag.indexOf('=')), value: r.tag.slice(r.tag.indexOf('=') + 1) } : r.tag;
        const status = r.status ?? r.state;
        const page = await this.list.list({
          limit: r.limit,
          ...(r.tenant !== undefined ? { tenant: r.tenant } : {}),
          ...(status !== undefined ? { status } : {}),
          ...(tag !== undefined ? { tag } : {}),
          ...(r.alias !== undefined ? { alias: withAliasPrefix(r.alias) } : {}),
          ...(r.cursor !== undefined ? { cursor: r.cursor } : {}),
        });
        const states = await Promise.all(page.ids.map((id) => this.reader.load(id)));
        const keys = states.flatMap((s) => (s === null ? [] : [toKeyInfo(s) as KeyInfo]));
        return ok({ keys, nextCursor: page.nextCursor });
      },
    });
  }

  @MessagePattern(subject('keys', 'rotate-key'))
  rotateKey(@Payload() body: unknown, @Ctx() ctx: NatsContext): Promise<Reply<KeyInfoReply>> {
    return this.calls.run(body, ctx, {
      operation: 'RotateKey', schema: RotateKeyRequest, keyRef: (r) => r.keyId,
      // rotatedAt/nextRotationAt on the scheduler's clock (db-clock.ts).
      run: async (r, call) => outcomeReply(await this.useCases.rotateKey(call.keyId, { ...call, now: await this.clock.now() }, {
        ...(r.reason !== undefined ? { reason: r.reason } : {}), ...(r.expectedVersion !== undefined ? { expectedVersion: r.expectedVersion } : {}),
      })),
    });
  }

  @MessagePattern(subject('keys', 'enable-key'))
  enableKey(@Payload() body: unknown, @Ctx() ctx: NatsContext): Promise<Reply<KeyInfoReply>> {
    return this.calls.run(body, ctx, {
      operation: 'EnableKey', ...byId, run: (_r, call) => this.commands.run(call, 'EnableKey', (keyId, meta) => ({ type: 'EnableKey', data: { keyId }, meta })),
    });
  }

  @MessagePattern(subject('keys', 'disable-key'))
  disableKey(@Payload() body: unknown, @Ctx() ctx: NatsContext): Promise<Reply<KeyInfoReply>> {
    return this.calls.run(body, ctx, {
      operation: 'DisableKey', ...byId, run: (_r, call) => this.commands.run(call, 'DisableKey', (keyId, meta) => ({ type: 'DisableKey', data: { keyId }, meta })),
    });
  }

  @MessagePattern(subject('keys', 'revoke-key'))
  revokeKey(@Payload() body: unknown, @Ctx() ctx: NatsContext): Promise<Reply<KeyInfoReply>> {
    return this.calls.run(body, ctx, {
      operation: 'RevokeKey', schema: RevokeKeyRequest, keyRef: (r) => r.keyId,
      run: (r, call) => this.commands.run(call, 'RevokeKey', (keyId, meta) => ({ type: 'RevokeKey', data: { keyId, reason: r.reason }, meta })),
    });
  }

  @MessagePattern(subject('keys', 'schedule-key-deletion'))
  scheduleKeyDeletion(@Payload() body: unknown, @Ctx() ctx: NatsContext): Promise<Reply<KeyInfoReply>> {
    return this.calls.run(body, ctx, {
      operation: 'ScheduleKeyDeletion', schema: ScheduleDeletionRequest, keyRef: (r) => r.keyId,
      // Same clock as the destroy check (db-clock.ts), so the window is measured on one clock.
      run: async (r, call) => this.commands.run({ ...call, now: await this.clock.now() }, 'ScheduleKeyDeletion', (keyId, meta) => ({
        type: 'ScheduleKeyDeletion', data: { keyId, ...(r.pendingWindowDays !== undefined ? { pendingWindowDays: r.pendingWindowDays } : {}) }, meta,
      })),
    });
  }

  @MessagePattern(subject('keys', 'cancel-key-deletion'))
  cancelKeyDeletion(@Payload() body: unknown, @Ctx() ctx: NatsContext): Promise<Reply<KeyInfoReply>> {
    return this.calls.run(body, ctx, {
      operation: 'CancelKeyDeletion', ...byId,
      run: (_r, call) => this.commands.run(call, 'CancelKeyDeletion', (keyId, meta) => ({ type: 'CancelKeyDeletion', data: { keyId }, meta })),
    });
  }

  /** Only once the deletion date has passed (the rotation service calls it); material goes in the same transaction. */
  @MessagePattern(subject('keys', 'destroy-key'))
  destroyKey(@Payload() body: unknown, @Ctx() ctx: NatsContext): Promise<Reply<KeyInfoReply>> {
    return this.calls.run(body, ctx, {
      operation: 'DestroyKey', schema: DestroyKeyRequest, keyRef: (r) => r.keyId,
      // The window is checked against the database clock (db-clock.ts), never a time the caller sends.
      run: async (r, call) => this.commands.run({ ...call, now: await this.clock.now() }, 'DestroyKey', (keyId, meta) => ({ type: 'DestroyKey', data: { keyId }, meta }), {
        alsoInTransaction: (tx, events) => (events.some((e) => e.type === 'KeyDestroyed') ? this.tokens.deleteForKey(tx, call.keyId) : Promise.resolve()),
        ...(r.expectedVersion !== undefined ? { expectedVersion: r.expectedVersion } : {}),
      }),
    });
  }

  private async describe(keyId: string): Promise<Reply<KeyInfoReply>> {
    const state = await this.reader.load(keyId);
    return state === null ? rejectionReply({ code: 'KEY_NOT_FOUND', keyId: keyId as never }) : ok(toKeyInfo(state) as KeyInfo);
  }
}
