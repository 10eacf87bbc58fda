/**
 * The access context of the policy service: principals, credentials (verifiers), policies, decisions.
 * Ports bound to adapters here; the event log module comes from policy.module.ts.
 */
import { Module, type DynamicModule } from '@nestjs/common';
import type { Pool } from 'pg';
import { EVENT_STORE, toInline, type EventStore, type InlineProjection } from '@ekm/event-store';
import { PG_POOL } from '@ekm/service-kit';
import { ACCESS_DIRECTORY, CREDENTIAL_ISSUER, type AccessDirectory, type CredentialIssuer } from './application/access.ports';
import { Decisions } from './application/decisions';
import { PolicyAdmin } from './application/policy-admin.use-cases';
import { PrincipalAdmin } from './application/principal-admin.use-cases';
import { LoginController } from './adapters/nats/login.controller';
import { PoliciesController } from './adapters/nats/policies.controller';
import { PrincipalsController } from './adapters/nats/principals.controller';
import { AccessProjection } from './adapters/postgres/access-projection';
import { PgAccessDirectory } from './adapters/postgres/access-directory';
import { AuthCredentialIssuer } from './adapters/runtime/auth-credential.issuer';
import { BootstrapAdmin } from './adapters/runtime/bootstrap-admin';
import { DirectoryRefresher } from './adapters/runtime/directory-refresher';

export const ACCESS_INLINE_PROJECTIONS = Symbol('ACCESS_INLINE_PROJECTIONS');

@Module({})
export class AccessModule {
  static register(eventLog: DynamicModule): DynamicModule {
    return {
      module: AccessModule,
      imports: [eventLog],
      controllers: [PrincipalsController, PoliciesController, LoginController],
      providers: [
        { provide: ACCESS_DIRECTORY, inject: [PG_POOL], useFactory: (pool: Pool) => new PgAccessDirectory(pool) },
        { provide: CREDENTIAL_ISSUER, useClass: AuthCredentialIssuer },
        { provide: ACCESS_INLINE_PROJECTIONS, useValue: [toInline(new AccessProjection())] },
        {
          provide: PrincipalAdmin, inject: [EVENT_STORE, ACCESS_INLINE_PROJECTIONS, ACCESS_DIRECTORY, CREDENTIAL_ISSUER],
          useFactory: (s: EventStore, i: InlineProjection[], d: AccessDirectory, c: CredentialIssuer) => new PrincipalAdmin(s, i, d, c),
        },
        {
          provide: PolicyAdmin, inject: [EVENT_STORE, ACCESS_INLINE_PROJECTIONS, ACCESS_DIRECTORY],
          useFactory: (s: EventStore, i: InlineProjection[], d: PgAccessDirectory) => new PolicyAdmin(s, i, d, () => d.refresh()),
        },
        { provide: Decisions, inject: [ACCESS_DIRECTORY], useFactory: (d: AccessDirectory) => new Decisions(d) },
        DirectoryRefresher,
        BootstrapAdmin,
      ],
      exports: [ACCESS_DIRECTORY, PrincipalAdmin, Decisions],
    };
  }
}
