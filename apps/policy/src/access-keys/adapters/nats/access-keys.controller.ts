/**
 * `ekm.v1.policy.{create,list,delete}-access-key` and `access-key-login`. A create reply carries the secret
 * ONCE (the caller's inbox only; never logged, never stored unwrapped). `access-key-login` needs no session:
 * the SigV4 signature is the proof; every refusal is an AuthenticationFailed event in this log.
 */
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import { Controller, Inject, type OnModuleInit } from '@nestjs/common';
import { Ctx, MessagePattern, Payload, type NatsContext } from '@nestjs/microservices';
import { AuthFailureRecorder, SIGV4_LOGIN_SUBJECT } from '@ekm/auth';
import {
  BusErrorCode, CreateAccessKeyRequest, DeleteAccessKeyRequest, fail, ListAccessKeysRequest, ok, parseRequest, SigV4LoginRequest, subject,
  type AccessKeyInfoReply, type AccessKeyListReply, type FailReply, type IssuedAccessKeyReply, type LoginReply, type Reply,
} from '@ekm/contracts';
import { EVENT_STORE, type EventStore } from '@ekm/event-store';
import { LOGGER, unauthenticated } from '@ekm/service-kit';
import type { Logger } from '@ekm/telemetry';
import { ACCESS_DIRECTORY, type AccessDirectory } from '../../../access/application/access.ports';
import { callOf } from '../../../access/adapters/nats/caller';
import { AccessKeyAdmin, type AccessKeyFailure } from '../../application/access-key-admin.use-cases';
import { KMS_API_VIA, SigV4Login } from '../../application/sigv4-login';
import type { AccessKeyRejection } from '../../domain/access-key.decide';

const toBusCode: Record<AccessKeyRejection['code'], BusErrorCode> = {
  ACCESS_KEY_EXISTS: BusErrorCode.Conflict,
  ACCESS_KEY_NOT_FOUND: BusErrorCode.NotFound,
  ACCESS_KEY_LIMIT: BusErrorCode.Conflict,
};

function rejectionMessage(r: AccessKeyRejection): string {
  switch (r.code) {
    case 'ACCESS_KEY_EXISTS': return `access key ${r.accessKeyId} already exists`;
    case 'ACCESS_KEY_NOT_FOUND': return `access key ${r.accessKeyId} not found (or already deleted)`;
    case 'ACCESS_KEY_LIMIT': return `principal ${r.principalId} already has ${r.active} access keys (at most 2); delete one first`;
  }
}

function failureReply(f: AccessKeyFailure): FailReply {
  switch (f.kind) {
    case 'NOT_FOUND': return fail(BusErrorCode.NotFound, `${f.what} not found`);
    case 'DUPLICATE_REQUEST': return fail(BusErrorCode.Conflict, f.what);
    case 'REJECTED': return fail(toBusCode[f.rejection.code], rejectionMessage(f.rejection), { rejection: f.rejection.code });
  }
}

@Controller()
export class AccessKeysController implements OnModuleInit {
  private recorder: AuthFailureRecorder | null = null;

  constructor(
    private readonly admin: AccessKeyAdmin,
    private readonly sigv4: SigV4Login,
    @Inject(ACCESS_DIRECTORY) private readonly directory: AccessDirectory,
    @Inject(EVENT_STORE) private readonly events: EventStore,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  onModuleInit(): void {
    this.recorder = new AuthFailureRecorder(this.events, `auth-failures-sigv4-${hostname()}-${process.pid}-${randomBytes(4).toString('hex')}`, this.logger);
  }

  @MessagePattern(subject('policy', 'create-access-key'))
  async create(@Payload() body: unknown, @Ctx() ctx: NatsContext): Promise<Reply<IssuedAccessKeyReply>> {
    const req = parseRequest(CreateAccessKeyRequest, body);
    if (!req.ok) return req;
    const call = callOf(ctx, this.directory);
    const r = await this.admin.create(call.caller, req.data.principalId, call.meta('CreateAccessKey'));
    return r.ok ? ok(r.value) : failureReply(r.failure);
  }

  @MessagePattern(subject('policy', 'list-access-keys'))
  async list(@Payload() body: unknown, @Ctx() ctx: NatsContext): Promise<Reply<AccessKeyListReply>> {
    const req = parseRequest(ListAccessKeysRequest, body);
    if (!req.ok) return req;
    const r = await this.admin.list(callOf(ctx, this.directory).caller, req.data.principalId);
    return r.ok ? ok({ accessKeys: r.value }) : failureReply(r.failure);
  }

  @MessagePattern(subject('policy', 'delete-access-key'))
  async delete(@Payload() body: unknown, @Ctx() ctx: NatsContext): Promise<Reply<AccessKeyInfoReply>> {
    const req = parseRequest(DeleteAccessKeyRequest, body);
    if (!req.ok) return req;
    const call = callOf(ctx, this.directory);
    const r = await this.admin.delete(call.caller, req.data.accessKeyId, req.data.reason, call.meta('DeleteAccessKey'));
    return r.ok ? ok(r.value) : failureReply(r.failure);
  }

  @MessagePattern(SIGV4_LOGIN_SUBJECT)
  async login(@Payload() body: unknown): Promise<Reply<LoginReply>> {
    const req = parseRequest(SigV4LoginRequest, body);
    if (!req.ok) return req;
    const r = await this.sigv4.login(req.data);
    if (r.ok) return ok(r.session);
    // Ids only (the claimed access key id is not a secret), never the signature or string to sign.
    this.logger.warn({ event: 'sigv4-refused', reason: r.reason, accessKeyId: req.data.accessKeyId, principalId: r.principalId }, 'SigV4 request refused');
    this.recorder?.record({
      subject: SIGV4_LOGIN_SUBJECT, reason: r.reason, service: 'policy', at: new Date().toISOString(), accessKeyId: req.data.accessKeyId.slice(0, 32), via: KMS_API_VIA,
      ...(r.principalId !== undefined ? { principalClaimed: r.principalId } : {}), ...(req.data.requestId !== undefined ? { requestId: req.data.requestId } : {}),
    });
    const reply = unauthenticated(r.reason);
    return { ...reply, error: { ...reply.error, message: r.detail } };
  }
}
