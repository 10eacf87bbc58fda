/** Aliases, tags and periodic-rotation settings (`ekm.v1.keys.*`). Aliases are unique across keys. */
import { Controller, Inject } from '@nestjs/common';
import { Ctx, MessagePattern, NatsContext, Payload } from '@nestjs/microservices';
import { BusErrorCode, fail, ok, subject, type Reply, type KeyInfoReply, type KeyRotationStatusReply } from '@ekm/contracts';
import type { KeyInfo, KeyId } from '../../domain';
import { KEY_STATE_READER, type KeyStateReader } from '../../application/ports';
import { AdminCallRunner } from './admin-call.runner';
import { KeyCommandReplies } from './key-command.reply';
import { rejectionReply } from '../../application/call-failures';
import { AliasRequest, EnableRotationRequest, KeyRefRequest, TagKeyRequest, UntagKeyRequest, UpdateDescriptionRequest, withAliasPrefix } from '@ekm/contracts';

export interface KeyRotationStatus {
  readonly keyId: string;
  readonly rotation: KeyInfo['rotation'];
  readonly lastRotatedAt: string | null;
}

@Controller()
export class KeysAttributesController {
  constructor(
    private readonly calls: AdminCallRunner,
    private readonly commands: KeyCommandReplies,
    @Inject(KEY_STATE_READER) private readonly reader: KeyStateReader,
  ) {}

  @MessagePattern(subject('keys', 'create-alias'))
  createAlias(@Payload() body: unknown, @Ctx() ctx: NatsContext): Promise<Reply<KeyInfoReply>> {
    return this.calls.run(body, ctx, {
      operation: 'CreateAlias', schema: AliasRequest, keyRef: (r) => r.keyId,
      run: async (r, call) => {
        const alias = withAliasPrefix(r.alias);
        // A friendly early answer; the aliases table's primary key is what guarantees it under races.
        const holder = await this.reader.resolve(alias);
        if (holder !== null && holder !== call.keyId) return fail(BusErrorCode.Conflict, `alias ${alias} already names key ${holder}; aliases are unique across keys`);
        return this.commands.run(call, 'CreateAlias', (keyId, meta) => ({ type: 'CreateAlias', data: { keyId, alias }, meta }));
      },
    });
  }

  @MessagePattern(subject('keys', 'delete-alias'))
  deleteAlias(@Payload() body: unknown, @Ctx() ctx: NatsContext): Promise<Reply<KeyInfoReply>> {
    return this.calls.run(body, ctx, {
      operation: 'DeleteAlias', schema: AliasRequest, keyRef: (r) => r.keyId,
      run: (r, call) => this.commands.run(call, 'DeleteAlias', (keyId, meta) => ({ type: 'DeleteAlias', data: { keyId, alias: withAliasPrefix(r.alias) }, meta })),
    });
  }

  @MessagePattern(subject('keys', 'tag-key'))
  tagKey(@Payload() body: unknown, @Ctx() ctx: NatsContext): Promise<Reply<KeyInfoReply>> {
    return this.calls.run(body, ctx, {
      operation: 'TagKey', schema: TagKeyRequest, keyRef: (r) => r.keyId,
      run: (r, call) => this.commands.run(call, 'TagKey', (keyId, meta) => ({ type: 'TagKey', data: { keyId, tags: r.tags }, meta })),
    });
  }

  @MessagePattern(subject('keys', 'untag-key'))
  untagKey(@Payload() body: unknown, @Ctx() ctx: NatsContext): Promise<Reply<KeyInfoReply>> {
    return this.calls.run(body, ctx, {
      operation: 'UntagKey', schema: UntagKeyRequest, keyRef: (r) => r.keyId,
      run: (r, call) => this.commands.run(call, 'UntagKey', (keyId, meta) => ({ type: 'UntagKey', data: { keyId, tagKeys: r.tagKeys }, meta })),
    });
  }

  @MessagePattern(subject('keys', 'update-key-description'))
  updateKeyDescription(@Payload() body: unknown, @Ctx() ctx: NatsContext): Promise<Reply<KeyInfoReply>> {
    return this.calls.run(body, ctx, {
      operation: 'UpdateDescription', schema: UpdateDescriptionRequest, keyRef: (r) => r.keyId,
      run: (r, call) => this.commands.run(call, 'UpdateDescription', (keyId, meta) => ({ type: 'UpdateDescription', data: { keyId, description: r.description }, meta })),
    });
  }

  @MessagePattern(subject('keys', 'enable-key-rotation'))
  enableKeyRotation(@Payload() body: unknown, @Ctx() ctx: NatsContext): Promise<Reply<KeyInfoReply>> {
    return this.calls.run(body, ctx, {
      operation: 'EnableKeyRotation', schema: EnableRotationRequest, keyRef: (r) => r.keyId,
      run: (r, call) => this.commands.run(call, 'EnableKeyRotation', (keyId, meta) => ({
        type: 'EnableKeyRotation', data: { keyId, ...(r.periodDays !== undefined ? { periodDays: r.periodDays } : {}) }, meta,
      })),
    });
  }

  @MessagePattern(subject('keys', 'disable-key-rotation'))
  disableKeyRotation(@Payload() body: unknown, @Ctx() ctx: NatsContext): Promise<Reply<KeyInfoReply>> {
    return this.calls.run(body, ctx, {
      operation: 'DisableKeyRotation', schema: KeyRefRequest, keyRef: (r) => r.keyId,
      run: (_r, call) => this.commands.run(call, 'DisableKeyRotation', (keyId, meta) => ({ type: 'DisableKeyRotation', data: { keyId }, meta })),
    });
  }

  @MessagePattern(subject('keys', 'get-key-rotation-status'))
  getKeyRotationStatus(@Payload() body: unknown, @Ctx() ctx: NatsContext): Promise<Reply<KeyRotationStatusReply>> {
    return this.calls.run(body, ctx, {
      operation: 'GetKeyRotationStatus', schema: KeyRefRequest, keyRef: (r) => r.keyId,
      run: async (_r, call) => {
        const s = await this.reader.load(call.keyId);
        if (s === null) return rejectionReply({ code: 'KEY_NOT_FOUND', keyId: call.keyId as KeyId });
        return ok({ keyId: s.keyId, rotation: { ...s.rotation }, lastRotatedAt: s.lastRotatedAt });
      },
    });
  }
}
