/** BYOK: `get-parameters-for-import` and `import-key-material` (ekm.v1.keys.*). */
import { Controller } from '@nestjs/common';
import { Ctx, MessagePattern, NatsContext, Payload } from '@nestjs/microservices';
import { ok, subject, type Reply, type KeyInfoReply } from '@ekm/contracts';
import type { KeyInfo, WrappingAlgorithm, WrappingKeySpec } from '../../domain';
import { KeyAdminUseCases } from '../../application/key-admin.use-cases';
import { AdminCallRunner } from './admin-call.runner';
import { outcomeReply } from './key-command.reply';
import { rejectionReply } from '../../application/call-failures';
import { ImportKeyMaterialRequest, ImportParametersRequest } from '@ekm/contracts';

export interface ImportParametersReply {
  readonly keyId: string;
  /** DER SubjectPublicKeyInfo, base64. */
  readonly publicKey: string;
  /** Opaque, single-use, bound to the key and the wrapping algorithm; base64. */
  readonly importToken: string;
  readonly wrappingAlgorithm: WrappingAlgorithm;
  readonly wrappingKeySpec: WrappingKeySpec;
  readonly expiresAt: string;
  /** Same as expiresAt (AWS's name). */
  readonly parametersValidTo: string;
}

@Controller()
export class KeysImportController {
  constructor(
    private readonly calls: AdminCallRunner,
    private readonly useCases: KeyAdminUseCases,
  ) {}

  @MessagePattern(subject('keys', 'get-parameters-for-import'))
  getParametersForImport(@Payload() body: unknown, @Ctx() ctx: NatsContext): Promise<Reply<ImportParametersReply>> {
    return this.calls.run(body, ctx, {
      operation: 'GetParametersForImport', schema: ImportParametersRequest, keyRef: (r) => r.keyId,
      run: async (r, call) => {
        const res = await this.useCases.issueImportParameters(call.keyId, r.wrappingAlgorithm, r.wrappingKeySpec, call);
        if (!res.outcome.ok) return rejectionReply(res.outcome.rejection);
        const expiresAt = res.expiresAt ?? '';
        return ok({
          keyId: call.keyId, publicKey: res.publicKey, importToken: Buffer.from(res.tokenId, 'utf8').toString('base64'),
          wrappingAlgorithm: r.wrappingAlgorithm, wrappingKeySpec: r.wrappingKeySpec, expiresAt, parametersValidTo: expiresAt,
        });
      },
    });
  }

  @MessagePattern(subject('keys', 'import-key-material'))
  importKeyMaterial(@Payload() body: unknown, @Ctx() ctx: NatsContext): Promise<Reply<KeyInfoReply>> {
    return this.calls.run(body, ctx, {
      operation: 'ImportKeyMaterial', schema: ImportKeyMaterialRequest, keyRef: (r) => r.keyId,
      run: async (r, call) => {
        const tokenId = Buffer.from(r.importToken, 'base64').toString('utf8');
        const material = Buffer.from(r.encryptedKeyMaterial, 'base64');
        return outcomeReply(await this.useCases.importKeyMaterial(call.keyId, tokenId, material, r.wrappingAlgorithm, call));
      },
    });
  }
}
