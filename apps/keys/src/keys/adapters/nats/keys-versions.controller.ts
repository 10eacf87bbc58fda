/**
 * Version retirement and token expiry (`ekm.v1.keys.*`, added with the rotation service):
 * mark-key-version-compromised, disable-key-version / destroy-key-version (refused while the version still protects live data assets
 * according to the rotation service's re-wrap tracking, unless `force: true`, which is recorded as the
 * separate operation `...Forced`, so it is authorized and audited on its own), enable-key-version and
 * expire-import-token (sent by the rotation scheduler when a BYOK token's validity ends).
 */
import { Controller } from '@nestjs/common';
import { Ctx, MessagePattern, NatsContext, Payload } from '@nestjs/microservices';
import { CompromiseVersionRequest, ExpireTokenRequest, RetireVersionRequest, subject, VersionRequest, type Reply, type KeyInfoReply } from '@ekm/contracts';
import type { KeyInfo } from '../../domain';
import { AdminCallRunner } from './admin-call.runner';
import { KeyCommandReplies } from './key-command.reply';
import { VersionRetirementCheck } from './version-retirement.check';

@Controller()
export class KeysVersionsController {
  constructor(
    private readonly calls: AdminCallRunner,
    private readonly commands: KeyCommandReplies,
    private readonly retirement: VersionRetirementCheck,
  ) {}

  @MessagePattern(subject('keys', 'disable-key-version'))
  disableKeyVersion(@Payload() body: unknown, @Ctx() ctx: NatsContext): Promise<Reply<KeyInfoReply>> {
    return this.retire(body, ctx, 'DisableKeyVersion');
  }

  @MessagePattern(subject('keys', 'destroy-key-version'))
  destroyKeyVersion(@Payload() body: unknown, @Ctx() ctx: NatsContext): Promise<Reply<KeyInfoReply>> {
    return this.retire(body, ctx, 'DestroyKeyVersion');
  }

  @MessagePattern(subject('keys', 'enable-key-version'))
  enableKeyVersion(@Payload() body: unknown, @Ctx() ctx: NatsContext): Promise<Reply<KeyInfoReply>> {
    return this.calls.run(body, ctx, {
      operation: 'EnableKeyVersion', schema: VersionRequest, keyRef: (r) => r.keyId,
      run: (r, call) => this.commands.run(call, 'EnableKeyVersion', (keyId, meta) => ({ type: 'EnableKeyVersion', data: { keyId, version: r.version }, meta })),
    });
  }

  /** Not guarded by the re-wrap tracking: an exposed version must stop now; its data is saved with ReEncrypt afterwards. */
  @MessagePattern(subject('keys', 'mark-key-version-compromised'))
  markKeyVersionCompromised(@Payload() body: unknown, @Ctx() ctx: NatsContext): Promise<Reply<KeyInfoReply>> {
    return this.calls.run(body, ctx, {
      operation: 'MarkKeyVersionCompromised', schema: CompromiseVersionRequest, keyRef: (r) => r.keyId,
      run: (r, call) => this.commands.run(call, 'MarkKeyVersionCompromised', (keyId, meta) => ({
        type: 'MarkKeyVersionCompromised', data: { keyId, version: r.version, reason: r.reason }, meta,
      })),
    });
  }

  @MessagePattern(subject('keys', 'expire-import-token'))
  expireImportToken(@Payload() body: unknown, @Ctx() ctx: NatsContext): Promise<Reply<KeyInfoReply>> {
    return this.calls.run(body, ctx, {
      operation: 'ExpireImportToken', schema: ExpireTokenRequest, keyRef: (r) => r.keyId,
      run: (r, call) => this.commands.run(call, 'ExpireImportToken', (keyId, meta) => ({ type: 'ExpireImportToken', data: { keyId, tokenId: r.tokenId }, meta })),
    });
  }

  private retire(body: unknown, ctx: NatsContext, type: 'DisableKeyVersion' | 'DestroyKeyVersion'): Promise<Reply<KeyInfoReply>> {
    const force = typeof body === 'object' && body !== null && (body as { force?: unknown }).force === true;
    return this.calls.run(body, ctx, {
      operation: force ? `${type}Forced` : type, schema: RetireVersionRequest, keyRef: (r) => r.keyId,
      run: async (r, call) => {
        if (!r.force) {
          const refused = await this.retirement.refusal(call.keyId, r.version, call.requestId);
          if (refused !== null) return refused;
        }
        return this.commands.run(call, type, (keyId, meta) => ({ type, data: { keyId, version: r.version }, meta }));
      },
    });
  }
}
