/**
 * ROOT_OF_TRUST chosen by EKM_ROOT_OF_TRUST: `software` (sealed root key in EKM_DATA_DIR, the default)
 * or `pkcs11` (EKM_PKCS11_*). No fallback: a pkcs11 root that cannot open fails the start.
 */
import { Inject, Injectable, type FactoryProvider, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import type { KeysConfig } from '@ekm/config';
import { openRootOfTrust, type RootOfTrust } from '@ekm/crypto';
import type { Pool } from 'pg';
import { bindRootOfTrust, LOGGER, PG_POOL, READINESS, SERVICE_CONFIG, type ReadinessRegistry } from '@ekm/service-kit';
import type { Logger } from '@ekm/telemetry';
import { ROOT_OF_TRUST } from '../../application/ports';

export const rootOfTrustProvider: FactoryProvider<Promise<RootOfTrust>> = {
  provide: ROOT_OF_TRUST,
  inject: [SERVICE_CONFIG, LOGGER, PG_POOL],
  useFactory: async (config: KeysConfig, logger: Logger, pool: Pool) => {
    const root = await openRootOfTrust(config);
    try {
      // Before any KEK is unwrapped: data sealed by another root is refused with both fingerprints.
      const binding = await bindRootOfTrust({ pool, service: 'keys', root, databaseUrl: config.databaseUrl });
      logger.info({ rootOfTrust: root.describe(), fingerprint: binding.fingerprint }, 'root of trust opened'); // describe() is secret-free
    } catch (err) {
      await root.close();
      throw err;
    }
    return root;
  },
};

/** Readiness check and close at shutdown (after the transport and the relay stopped). */
@Injectable()
export class RootOfTrustLifecycle implements OnApplicationBootstrap, OnApplicationShutdown {
  constructor(
    @Inject(ROOT_OF_TRUST) private readonly root: RootOfTrust,
    @Inject(READINESS) private readonly readiness: ReadinessRegistry,
  ) {}

  onApplicationBootstrap(): void {
    this.readiness.register('root-of-trust', async () => {
      await this.root.health();
    });
  }

  async onApplicationShutdown(): Promise<void> {
    await this.root.close();
  }
}
