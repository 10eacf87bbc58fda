/**
 * Access keys of principals (AWS-style id + secret for SigV4) and the SigV4 login of the HTTPS edge.
 * Secrets are wrapped under the root of trust (RootSecretBox) in `ekm_policy.access_keys`.
 */
import { Module, type DynamicModule } from '@nestjs/common';
import type { Pool } from 'pg';
import { resolveAuthSecret, SessionSealer } from '@ekm/auth';
import type { PolicyConfig } from '@ekm/config';
import { EVENT_STORE, type EventStore } from '@ekm/event-store';
import { PG_POOL, SERVICE_CONFIG } from '@ekm/service-kit';
import { ACCESS_DIRECTORY, type AccessDirectory } from '../access/application/access.ports';
import { AccessKeysController } from './adapters/nats/access-keys.controller';
import { PgAccessKeyStore } from './adapters/postgres/access-key.store';
import { RootSecretBox } from './adapters/runtime/root-secret-box';
import { AccessKeyAdmin } from './application/access-key-admin.use-cases';
import { ACCESS_KEY_STORE, SECRET_BOX, type AccessKeyStore, type SecretBox } from './application/access-key.ports';
import { SigV4Login } from './application/sigv4-login';
import { serviceIdentityOf } from '../access/adapters/runtime/service-identity';

@Module({})
export class AccessKeysModule {
  /** `access`: the AccessModule (it exports the directory). */
  static register(eventLog: DynamicModule, access: DynamicModule): DynamicModule {
    return {
      module: AccessKeysModule,
      imports: [eventLog, access],
      controllers: [AccessKeysController],
      providers: [
        { provide: ACCESS_KEY_STORE, inject: [PG_POOL], useFactory: (pool: Pool) => new PgAccessKeyStore(pool) },
        { provide: SECRET_BOX, useClass: RootSecretBox },
        {
          provide: AccessKeyAdmin, inject: [EVENT_STORE, ACCESS_KEY_STORE, SECRET_BOX, ACCESS_DIRECTORY],
          useFactory: (e: EventStore, k: AccessKeyStore, b: SecretBox, d: AccessDirectory) => new AccessKeyAdmin(e, k, b, d),
        },
        {
          provide: SigV4Login, inject: [ACCESS_KEY_STORE, SECRET_BOX, ACCESS_DIRECTORY, SERVICE_CONFIG],
          useFactory: (k: AccessKeyStore, b: SecretBox, d: AccessDirectory, c: PolicyConfig) => {
            let sealer: SessionSealer | null = null;
            const sealerNow = (): SessionSealer => (sealer ??= new SessionSealer(resolveAuthSecret({ ...(c.authSecret !== undefined ? { secret: c.authSecret } : {}), env: c.env, dataDir: c.dataDir })));
            return new SigV4Login(k, b, d, sealerNow, c.sessionTtlMs, () => serviceIdentityOf(c));
          },
        },
      ],
    };
  }
}
