/**
 * CryptoModule: the keys service's data plane — the ekm.v1.keys.<crypto op> handlers, the group-committed
 * usage recorder (USAGE_RECORDER), the unwrapped-KEK cache (KEK_SOURCE), cross-replica invalidation from
 * the lifecycle subjects `ekm.events.keys.<KeyEventType>` and the relay heartbeat, and the AES-GCM budget
 * with forced rotation.
 *
 * `imports` must export, between them: EVENT_STORE and PG_POOL (EventLogModule.forService('keys'), pass
 * the SAME object the root module imports so Nest builds one pool), and the control plane's
 * KEY_STATE_READER, KEY_CACHE_TRUST, KEY_MATERIAL_STORE, KEY_COMMAND_HANDLER, EPOCH_KEYRING and AUTHORIZER.
 * The `gcm_budget` table comes from GcmBudgetMigration (add it to the keys service's extraMigrations).
 */
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import { Inject, Injectable, Module, type BeforeApplicationShutdown, type DynamicModule, type OnApplicationBootstrap, type Type } from '@nestjs/common';
import type { NatsConnection } from '@nats-io/transport-node';
import type { Pool } from 'pg';
import type { KeysConfig } from '@ekm/config';
import { EVENT_STORE, type EventStore } from '@ekm/event-store';
import { LOGGER, NATS_CONNECTION, PG_POOL, SERVICE_CONFIG } from '@ekm/service-kit';
import type { Logger } from '@ekm/telemetry';
import { DEFAULT_BUDGET_THRESHOLD } from '../../domain';
import { AUTHORIZER, KEY_COMMAND_HANDLER, KEY_MATERIAL_STORE, KEY_STATE_READER, ROOT_OF_TRUST, USAGE_RECORDER, type Authorizer, type KeyCommandHandler, type KeyMaterialStore, type KeyStateReader, type RootOfTrust } from '../../application/ports';
import { UsageRecorder } from '../../application/usage-recorder';
import { BudgetRotation } from '../../application/crypto/budget-rotation';
import { DATA_PLANE_OPTIONS, GCM_COUNTER_STORE, KEK_SOURCE, type DataPlaneOptions, type GcmCounterStore, type KekSource } from '../../application/crypto/crypto.ports';
import { DataPlane } from '../../application/crypto/data-plane';
import { DataPlaneBatch } from '../../application/crypto/data-plane-batch';
import { GcmBudget } from '../../application/crypto/gcm-budget';
import { KeyAccess } from '../../application/crypto/key-access';
import { KekCache } from '../cache/kek-cache';
import { KeyEventInvalidator } from '../cache/key-event-invalidator';
import { KEY_CACHE_TRUST, type CacheTrust } from '../cache/cache-trust';
import { EPOCH_KEYRING, type EpochKeyring } from '../../application/epochs/epoch-keyring';
import { TENANT_ROOT_KEYRING, type TenantRootKeyring } from '../../application/tenant-roots/tenant-root-keyring';
import { PostgresGcmCounterStore } from '../postgres/gcm-budget.store';
import { KeysCryptoController } from './keys-crypto.controller';
import { TENANT_SEAL_GATE, type TenantSealGate } from '../../application/tenants/tenant-seal.ports';
import { onTenantSealEvent } from '../tenants/tenant-material-drop';

export interface CryptoModuleOptions {
  readonly imports: ReadonlyArray<Type<unknown> | DynamicModule>;
  /** GCM numbers reserved per Postgres round trip; default defaultGcmBlock(budget). */
  readonly gcmBlockSize?: number;
  /** Default DEFAULT_BUDGET_THRESHOLD (0.75). */
  readonly gcmRotateThreshold?: number;
  /** Names this process's usage stream `usage-<instanceId>`; default host-pid-random. */
  readonly instanceId?: string;
}

/**
 * sqrt(budget) clamped to 1..4096: round trips grow only as sqrt(budget) and a crash wastes at most one
 * block (a negligible share of a large budget); a tiny test budget (10) still gets real blocks (3).
 */
export const defaultGcmBlock = (budget: number): number => Math.min(4096, Math.max(1, Math.floor(Math.sqrt(budget))));

@Injectable()
class CryptoLifecycle implements OnApplicationBootstrap, BeforeApplicationShutdown {
  constructor(
    @Inject(KeyEventInvalidator) private readonly invalidator: KeyEventInvalidator,
    @Inject(KEK_SOURCE) private readonly keks: KekCache,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.invalidator.start();
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.invalidator.stop();
    this.keks.clear();
  }
}

@Module({})
export class CryptoModule {
  static forRoot(opts: CryptoModuleOptions): DynamicModule {
    return {
      module: CryptoModule,
      imports: [...opts.imports],
      controllers: [KeysCryptoController],
      providers: [
        {
          provide: DATA_PLANE_OPTIONS,
          inject: [SERVICE_CONFIG],
          useFactory: (config: KeysConfig): DataPlaneOptions => ({
            gcmBudget: config.gcmBudget,
            gcmBlockSize: opts.gcmBlockSize ?? defaultGcmBlock(config.gcmBudget),
            gcmRotateThreshold: opts.gcmRotateThreshold ?? DEFAULT_BUDGET_THRESHOLD,
            instanceId: opts.instanceId ?? `${hostname()}-${process.pid}-${randomBytes(4).toString('hex')}`,
          }),
        },
        {
          provide: USAGE_RECORDER,
          inject: [EVENT_STORE, DATA_PLANE_OPTIONS],
          useFactory: (store: EventStore, o: DataPlaneOptions) => new UsageRecorder(store, { streamId: `usage-${o.instanceId}` }),
        },
        {
          provide: KEK_SOURCE,
          inject: [KEY_MATERIAL_STORE, TENANT_ROOT_KEYRING, SERVICE_CONFIG],
          useFactory: (store: KeyMaterialStore, keyring: TenantRootKeyring, config: KeysConfig) => new KekCache(store, keyring, { ttlMs: config.kekCacheTtlMs, maxEntries: config.kekCacheMax }),
        },
        { provide: GCM_COUNTER_STORE, inject: [PG_POOL], useFactory: (pool: Pool) => new PostgresGcmCounterStore(pool) },
        {
          provide: GcmBudget,
          inject: [GCM_COUNTER_STORE, DATA_PLANE_OPTIONS],
          useFactory: (store: GcmCounterStore, o: DataPlaneOptions) => new GcmBudget(store, o.gcmBudget, o.gcmBlockSize, o.gcmRotateThreshold),
        },
        {
          provide: BudgetRotation,
          inject: [KEY_COMMAND_HANDLER, KEY_STATE_READER, TENANT_ROOT_KEYRING, LOGGER],
          useFactory: (cmds: KeyCommandHandler, reader: KeyStateReader, keyring: TenantRootKeyring, logger: Logger) =>
            new BudgetRotation(cmds, reader, keyring, logger.child({ component: 'gcm-budget' })),
        },
        {
          provide: KeyAccess, inject: [KEY_STATE_READER, AUTHORIZER, TENANT_SEAL_GATE],
          useFactory: (r: KeyStateReader, a: Authorizer, seals: TenantSealGate) => new KeyAccess(r, a, seals),
        },
        {
          provide: DataPlane,
          inject: [KeyAccess, KEK_SOURCE, GcmBudget, BudgetRotation, USAGE_RECORDER],
          useFactory: (a: KeyAccess, k: KekSource, b: GcmBudget, r: BudgetRotation, u: UsageRecorder) => new DataPlane(a, k, b, r, u),
        },
        { provide: DataPlaneBatch, inject: [DataPlane], useFactory: (p: DataPlane) => new DataPlaneBatch(p) },
        {
          provide: KeyEventInvalidator,
          inject: [NATS_CONNECTION, KEY_STATE_READER, KEK_SOURCE, KEY_CACHE_TRUST, LOGGER, TENANT_SEAL_GATE, TENANT_ROOT_KEYRING],
          useFactory: (nc: NatsConnection, reader: KeyStateReader, keks: KekSource, trust: CacheTrust, logger: Logger, seals: TenantSealGate, roots: TenantRootKeyring) =>
            new KeyEventInvalidator(nc, reader, keks, trust, logger.child({ component: 'key-event-invalidator' }), onTenantSealEvent(seals, keks, roots)),
        },
        CryptoLifecycle,
      ],
      exports: [USAGE_RECORDER, KEK_SOURCE, DataPlane, KeyAccess, KeyEventInvalidator, GCM_COUNTER_STORE],
    };
  }
}
