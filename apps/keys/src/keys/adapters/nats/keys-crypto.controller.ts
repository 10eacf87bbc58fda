/**
 * Data-plane subjects `ekm.v1.keys.<op>`: validate (zod) → DataPlane → Reply. Only translation here.
 * Plaintext fields are SecretBytes: the transport's JSON.stringify writes them as base64 and zeroes them.
 */
import { Controller, Inject } from '@nestjs/common';
import { Ctx, MessagePattern, NatsContext, Payload } from '@nestjs/microservices';
import { ok, parseRequest, subject, type Reply } from '@ekm/contracts';
import { ACCESS_REFUSALS, type AccessRefusals } from '@ekm/service-kit';
import { toFailReply } from '../../application/call-failures';
import type { Outcome } from '../../application/call-pipeline';
import {
  DecryptBatchRequest, DecryptRequest, EncryptRequest, GenerateDataKeyBatchRequest, GenerateDataKeyRequest, GenerateMacRequest,
  ReEncryptBatchRequest, ReEncryptRequest, VerifyMacRequest,
} from '@ekm/contracts';
import { DataPlane } from '../../application/crypto/data-plane';
import { DataPlaneBatch, type BatchOutcome } from '../../application/crypto/data-plane-batch';
import { callMetaOf as metaOf } from './call-of';

const reply = <T>(o: Outcome<T> | BatchOutcome<T>): Reply<unknown> => (o.ok ? ok(o.value) : toFailReply(o.failure));

@Controller()
export class KeysCryptoController {
  constructor(
    @Inject(DataPlane) private readonly plane: DataPlane,
    @Inject(DataPlaneBatch) private readonly batch: DataPlaneBatch,
    // A request that fails validation never reaches the data plane (no usage record): it is an AccessDenied record.
    @Inject(ACCESS_REFUSALS) private readonly refusals: AccessRefusals,
  ) {}

  @MessagePattern(subject('keys', 'generate-data-key'))
  async generateDataKey(@Payload() body: unknown, @Ctx() ctx: NatsContext): Promise<Reply<unknown>> {
    const req = parseRequest(GenerateDataKeyRequest, body);
    return req.ok ? reply(await this.plane.generateDataKey(req.data, metaOf(ctx), true)) : this.refusals.deny(ctx, 'GenerateDataKey', undefined, req);
  }

  @MessagePattern(subject('keys', 'generate-data-key-without-plaintext'))
  async generateDataKeyWithoutPlaintext(@Payload() body: unknown, @Ctx() ctx: NatsContext): Promise<Reply<unknown>> {
    const req = parseRequest(GenerateDataKeyRequest, body);
    return req.ok ? reply(await this.plane.generateDataKey(req.data, metaOf(ctx), false)) : this.refusals.deny(ctx, 'GenerateDataKeyWithoutPlaintext', undefined, req);
  }

  @MessagePattern(subject('keys', 'encrypt'))
  async encrypt(@Payload() body: unknown, @Ctx() ctx: NatsContext): Promise<Reply<unknown>> {
    const req = parseRequest(EncryptRequest, body);
    return req.ok ? reply(await this.plane.encrypt(req.data, metaOf(ctx))) : this.refusals.deny(ctx, 'Encrypt', undefined, req);
  }

  @MessagePattern(subject('keys', 'decrypt'))
  async decrypt(@Payload() body: unknown, @Ctx() ctx: NatsContext): Promise<Reply<unknown>> {
    const req = parseRequest(DecryptRequest, body);
    return req.ok ? reply(await this.plane.decrypt(req.data, metaOf(ctx))) : this.refusals.deny(ctx, 'Decrypt', undefined, req);
  }

  @MessagePattern(subject('keys', 're-encrypt'))
  async reEncrypt(@Payload() body: unknown, @Ctx() ctx: NatsContext): Promise<Reply<unknown>> {
    const req = parseRequest(ReEncryptRequest, body);
    return req.ok ? reply(await this.plane.reEncrypt(req.data, metaOf(ctx))) : this.refusals.deny(ctx, 'ReEncrypt', undefined, req);
  }

  @MessagePattern(subject('keys', 'generate-data-key-batch'))
  async generateDataKeyBatch(@Payload() body: unknown, @Ctx() ctx: NatsContext): Promise<Reply<unknown>> {
    const req = parseRequest(GenerateDataKeyBatchRequest, body);
    return req.ok ? reply(await this.batch.generateDataKeys(req.data.items, metaOf(ctx), req.data.withPlaintext ?? true)) : this.refusals.deny(ctx, 'GenerateDataKeyBatch', undefined, req);
  }

  @MessagePattern(subject('keys', 'decrypt-batch'))
  async decryptBatch(@Payload() body: unknown, @Ctx() ctx: NatsContext): Promise<Reply<unknown>> {
    const req = parseRequest(DecryptBatchRequest, body);
    return req.ok ? reply(await this.batch.decrypt(req.data.items, metaOf(ctx))) : this.refusals.deny(ctx, 'DecryptBatch', undefined, req);
  }

  @MessagePattern(subject('keys', 're-encrypt-batch'))
  async reEncryptBatch(@Payload() body: unknown, @Ctx() ctx: NatsContext): Promise<Reply<unknown>> {
    const req = parseRequest(ReEncryptBatchRequest, body);
    return req.ok ? reply(await this.batch.reEncrypt(req.data.items, metaOf(ctx))) : this.refusals.deny(ctx, 'ReEncryptBatch', undefined, req);
  }

  @MessagePattern(subject('keys', 'generate-mac'))
  async generateMac(@Payload() body: unknown, @Ctx() ctx: NatsContext): Promise<Reply<unknown>> {
    const req = parseRequest(GenerateMacRequest, body);
    return req.ok ? reply(await this.plane.generateMac(req.data, metaOf(ctx))) : this.refusals.deny(ctx, 'GenerateMac', undefined, req);
  }

  @MessagePattern(subject('keys', 'verify-mac'))
  async verifyMac(@Payload() body: unknown, @Ctx() ctx: NatsContext): Promise<Reply<unknown>> {
    const req = parseRequest(VerifyMacRequest, body);
    return req.ok ? reply(await this.plane.verifyMac(req.data, metaOf(ctx))) : this.refusals.deny(ctx, 'VerifyMac', undefined, req);
  }
}
