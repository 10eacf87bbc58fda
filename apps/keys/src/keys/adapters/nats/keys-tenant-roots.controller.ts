/**
 * Tenant roots (`ekm.v1.keys.*`): describe-tenant-root and set-tenant-root-external. Authorized as
 * `keys:DescribeTenantRoot` / `keys:SetTenantRootExternal` on the tenant (operators hold them through
 * `keys:*` in operator-admin; grant them to nobody else). The set request carries the external KMS's
 * credentials: its subject is sealed, they go only into the root-of-trust-wrapped row, and neither the
 * reply, the usage record nor any log names them.
 */
import { Controller, Inject } from '@nestjs/common';
import { Ctx, MessagePattern, NatsContext, Payload } from '@nestjs/microservices';
import { DescribeTenantRootRequest, ok, SetTenantRootExternalRequest, subject, type Reply, type TenantRootReply } from '@ekm/contracts';
import { TENANT_ROOT_KEYRING, type TenantRootKeyring } from '../../application/tenant-roots/tenant-root-keyring';
import { AdminCallRunner } from './admin-call.runner';

@Controller()
export class KeysTenantRootsController {
  constructor(
    private readonly calls: AdminCallRunner,
    @Inject(TENANT_ROOT_KEYRING) private readonly roots: TenantRootKeyring,
  ) {}

  @MessagePattern(subject('keys', 'describe-tenant-root'))
  describe(@Payload() body: unknown, @Ctx() ctx: NatsContext): Promise<Reply<TenantRootReply>> {
    return this.calls.run(body, ctx, {
      operation: 'DescribeTenantRoot', schema: DescribeTenantRootRequest, resource: (r) => ({ tenant: r.tenant }),
      run: async (r) => ok(await this.roots.describe(r.tenant)),
    });
  }

  @MessagePattern(subject('keys', 'set-tenant-root-external'))
  setExternal(@Payload() body: unknown, @Ctx() ctx: NatsContext): Promise<Reply<TenantRootReply>> {
    return this.calls.run(body, ctx, {
      operation: 'SetTenantRootExternal', schema: SetTenantRootExternalRequest, resource: (r) => ({ tenant: r.tenant }),
      run: async (r) => {
        const { tenant, endpoint, region, keyId, credentials, caPem } = r;
        const creds = { accessKeyId: credentials.accessKeyId, secretAccessKey: credentials.secretAccessKey, ...(credentials.sessionToken !== undefined ? { sessionToken: credentials.sessionToken } : {}) };
        return ok(await this.roots.setExternal(tenant, { endpoint, region, keyId, credentials: creds, ...(caPem !== undefined ? { caPem } : {}) }));
      },
    });
  }
}
