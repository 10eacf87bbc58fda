/**
 * The keys service: its event log (schema `ekm_keys` + the keys tables, outbox relay to
 * `EKM_KEYS_EVENTS`), the `ekm.v1.keys.status` handler and the lifecycle API (control plane).
 * The data plane (GenerateDataKey/Encrypt/...) plugs in through keys/adapters/nats/crypto.module.ts.
 */
import { Module } from '@nestjs/common';
import { createHmac } from 'node:crypto';
import { resolveAuthSecret } from '@ekm/auth';
import type { KeysConfig } from '@ekm/config';
import { EVENT_STORE, toInline, type EventStore } from '@ekm/event-store';
import { LogEpochEvents } from './keys/adapters/postgres/epoch-events';
import { EventLogModule, PG_POOL, RootBindingMigration, SERVICE_CONFIG } from '@ekm/service-kit';
import type { Pool } from 'pg';
import { DEFAULT_KEY_LIMITS, type KeyLifecycleLimits } from './keys/domain';
import { HandleKeyCommand, KEY_INLINE_PROJECTIONS, KEY_LIMITS } from './keys/application/handle-key-command';
import { KeyAdminUseCases } from './keys/application/key-admin.use-cases';
import { AUTHORIZER, ID_DERIVATION_KEY, KEY_COMMAND_HANDLER, KEY_MATERIAL_STORE, KEY_STATE_READER, ROOT_OF_TRUST } from './keys/application/ports';
import { authorizerProvider } from './keys/adapters/authz/authorizer.provider';
import { CryptoModule } from './keys/adapters/nats/crypto.module';
import { AdminCallRunner } from './keys/adapters/nats/admin-call.runner';
import { KeyCommandReplies } from './keys/adapters/nats/key-command.reply';
import { KeysAdminController } from './keys/adapters/nats/keys-admin.controller';
import { KeysAttributesController } from './keys/adapters/nats/keys-attributes.controller';
import { KeysImportController } from './keys/adapters/nats/keys-import.controller';
import { KeysVersionsController } from './keys/adapters/nats/keys-versions.controller';
import { VersionRetirementCheck } from './keys/adapters/nats/version-retirement.check';
import { DbClock } from './keys/adapters/postgres/db-clock';
import { KeysClockMigration } from './keys/adapters/postgres/keys-clock.migration';
import { PgImportTokenStore } from './keys/adapters/postgres/import-token.store';
import { KeyListQuery } from './keys/adapters/postgres/key-list.query';
import { PgKeyMaterialStore } from './keys/adapters/postgres/key-material.store';
import { KeyProjection } from './keys/adapters/postgres/key-projection';
import { GcmBudgetMigration } from './keys/adapters/postgres/gcm-budget.migration';
import { KEY_STATE_CACHE_TTL_MS, PgKeyStateReader } from './keys/adapters/postgres/key-state.reader';
import { CacheTrust, KEY_CACHE_TRUST } from './keys/adapters/cache/cache-trust';
import { isSequencedKeyEvent, KEY_RELAY_HEARTBEAT_SUBJECT } from './keys/adapters/cache/key-event-invalidator';

/** Half the trust bound: one late or lost heartbeat does not yet suspend the caches. */
const RELAY_HEARTBEAT_MS = 250;
import { KeysSchemaMigration } from './keys/adapters/postgres/keys-schema.migration';
import { RootOfTrustLifecycle, rootOfTrustProvider } from './keys/adapters/root-of-trust/root-of-trust.provider';
import { StatusController } from './system/status.controller';
import { EPOCH_KEYRING, EpochKeyring } from './keys/application/epochs/epoch-keyring';
import { EpochRoller } from './keys/application/epochs/epoch-roller';
import { EPOCH_STATE_STORE, FORWARD_LEDGER, type EpochStateStore, type ForwardLedger } from './keys/application/epochs/epoch.ports';
import { EpochRollerLifecycle } from './keys/adapters/epochs/epoch-roller.lifecycle';
import { FileForwardLedger } from './keys/adapters/epochs/file-forward-ledger';
import { EpochsMigration } from './keys/adapters/postgres/epochs.migration';
import { KeysTenantRootsController } from './keys/adapters/nats/keys-tenant-roots.controller';
import { TenantRootsMigration } from './keys/adapters/postgres/tenant-roots.migration';
import { PgTenantRootStore } from './keys/adapters/postgres/tenant-root.store';
import { AwsExternalKms } from './keys/adapters/external-kms/aws-external-kms';
import { TENANT_ROOT_KEYRING, TenantRootKeyring } from './keys/application/tenant-roots/tenant-root-keyring';
import { EXTERNAL_KMS, TENANT_ROOT_STORE, type ExternalKms, type TenantRootStore } from './keys/application/tenant-roots/tenant-root.ports';
import { PgEpochStateStore } from './keys/adapters/postgres/epoch-state.store';
import type { RootOfTrust } from '@ekm/crypto';
import { LOGGER } from '@ekm/service-kit';
import type { Logger } from '@ekm/telemetry';
import { KEK_SOURCE, type KekSource } from './keys/application/crypto/crypto.ports';
import { SEAL_SECRETS, TENANT_SEAL_GATE, UNSEAL_VERIFIERS, type SealSecrets, type UnsealVerifierStore } from './keys/application/tenants/tenant-seal.ports';
import { TenantSealMigration } from './keys/adapters/postgres/tenant-seal.migration';
import { PgUnsealVerifierStore } from './keys/adapters/postgres/unseal-verifier.store';
import { StreamTenantSealGate } from './keys/application/tenants/tenant-seal-gate';
import { TenantSealCommands } from './keys/application/tenants/tenant-seal.commands';
import { ScryptSealSecrets } from './keys/adapters/tenants/seal-secrets';
import { TenantSealController } from './keys/adapters/nats/tenant-seal.controller';
import { dropTenantMaterial } from './keys/adapters/tenants/tenant-material-drop';

/** EKM_DELETION_MIN_DAYS lowers the shortest deletion window (0 in tests: destroy right after scheduling). */
export const keyLimitsFor = (config: KeysConfig): KeyLifecycleLimits => ({ ...DEFAULT_KEY_LIMITS, minPendingWindowDays: config.deletionMinDays });

// The relay numbers lifecycle events and heartbeats while caught up, so replicas can keep key state and
// KEKs cached until an event invalidates them (CacheTrust), not just for a 500 ms TTL.
const eventLog = EventLogModule.forService('keys', {
  extraMigrations: [KeysSchemaMigration, GcmBudgetMigration, KeysClockMigration, EpochsMigration, RootBindingMigration, TenantRootsMigration, TenantSealMigration],
  relay: { sequenced: isSequencedKeyEvent, heartbeat: { subject: KEY_RELAY_HEARTBEAT_SUBJECT, intervalMs: RELAY_HEARTBEAT_MS } },
});

/**
 * The control plane's ports, in their own module so the data plane (CryptoModule) can import them:
 * ROOT_OF_TRUST, AUTHORIZER, KEY_STATE_READER, KEY_MATERIAL_STORE, KEY_COMMAND_HANDLER, KEY_LIMITS,
 * EPOCH_KEYRING (wraps new KEK versions under the current root-of-trust epoch, opens stored ones),
 * TENANT_ROOT_KEYRING (the tenant root layer inside the epoch layer; local or external roots).
 */
@Module({
  imports: [eventLog],
  providers: [
    rootOfTrustProvider,
    RootOfTrustLifecycle,
    authorizerProvider,
    { provide: KEY_LIMITS, inject: [SERVICE_CONFIG], useFactory: keyLimitsFor },
    { provide: KEY_INLINE_PROJECTIONS, useValue: [toInline(new KeyProjection())] },
    { provide: KEY_MATERIAL_STORE, useClass: PgKeyMaterialStore },
    { provide: KEY_CACHE_TRUST, useFactory: () => new CacheTrust({ boundMs: KEY_STATE_CACHE_TTL_MS }) },
    { provide: KEY_STATE_READER, useClass: PgKeyStateReader },
    { provide: KEY_COMMAND_HANDLER, useClass: HandleKeyCommand },
    { provide: EPOCH_STATE_STORE, useClass: PgEpochStateStore },
    { provide: FORWARD_LEDGER, inject: [SERVICE_CONFIG], useFactory: (config: KeysConfig) => new FileForwardLedger(config.dataDir) },
    {
      provide: EPOCH_KEYRING,
      inject: [ROOT_OF_TRUST, EPOCH_STATE_STORE, FORWARD_LEDGER],
      useFactory: (root: RootOfTrust, state: EpochStateStore, ledger: ForwardLedger) => new EpochKeyring(root, state, ledger),
    },
    { provide: TENANT_ROOT_STORE, useClass: PgTenantRootStore },
    { provide: EXTERNAL_KMS, inject: [SERVICE_CONFIG], useFactory: (config: KeysConfig) => new AwsExternalKms({ timeoutMs: config.tenantRoots.externalTimeoutMs, allowedEndpoints: config.tenantRoots.allowedEndpoints }) },
    {
      provide: TENANT_ROOT_KEYRING,
      inject: [EPOCH_KEYRING, TENANT_ROOT_STORE, EXTERNAL_KMS, SERVICE_CONFIG],
      useFactory: (keyring: EpochKeyring, store: TenantRootStore, external: ExternalKms, config: KeysConfig) => new TenantRootKeyring(keyring, store, external, {
        // A local root lives as long as the KEKs it opens may; an external one only EKM_XKS_CACHE_MS.
        localTtlMs: config.kekCacheTtlMs, externalTtlMs: config.tenantRoots.externalCacheMs, maxEntries: config.tenantRoots.cacheMax,
      }),
    },
    {
      provide: EpochRoller,
      inject: [ROOT_OF_TRUST, EPOCH_STATE_STORE, FORWARD_LEDGER, EPOCH_KEYRING, SERVICE_CONFIG, LOGGER, EVENT_STORE],
      useFactory: (root: RootOfTrust, state: EpochStateStore, ledger: ForwardLedger, keyring: EpochKeyring, config: KeysConfig, logger: Logger, store: EventStore) =>
        new EpochRoller(root, state, ledger, keyring, logger.child({ component: 'epoch-roller' }), { intervalMs: config.epochs.rollIntervalMs, batch: config.epochs.rewrapBatch }, new LogEpochEvents(store)),
    },
    EpochRollerLifecycle,
    { provide: TENANT_SEAL_GATE, inject: [EVENT_STORE], useFactory: (store: EventStore) => new StreamTenantSealGate(store) },
  ],
  exports: [ROOT_OF_TRUST, AUTHORIZER, KEY_LIMITS, KEY_MATERIAL_STORE, KEY_CACHE_TRUST, KEY_STATE_READER, KEY_COMMAND_HANDLER, EPOCH_KEYRING, TENANT_ROOT_KEYRING, EpochRollerLifecycle, TENANT_SEAL_GATE],
})
export class KeysControlModule {}

@Module({
  imports: [eventLog, KeysControlModule, CryptoModule.forRoot({ imports: [eventLog, KeysControlModule] })],
  controllers: [StatusController, KeysAdminController, KeysAttributesController, KeysImportController, KeysVersionsController, KeysTenantRootsController, TenantSealController],
  providers: [
    PgImportTokenStore, KeyListQuery, KeyAdminUseCases, AdminCallRunner, KeyCommandReplies, DbClock, VersionRetirementCheck,
    { provide: ID_DERIVATION_KEY, inject: [SERVICE_CONFIG], useFactory: idDerivationKeyFor },
    { provide: SEAL_SECRETS, inject: [SERVICE_CONFIG], useFactory: (config: KeysConfig) => new ScryptSealSecrets(servicePepperFor(config, 'ekm-tenant-seal-pepper-v1')) },
    { provide: UNSEAL_VERIFIERS, inject: [PG_POOL], useFactory: (pool: Pool) => new PgUnsealVerifierStore(pool) },
    {
      provide: TenantSealCommands,
      inject: [EVENT_STORE, TENANT_SEAL_GATE, SEAL_SECRETS, UNSEAL_VERIFIERS, KEK_SOURCE, TENANT_ROOT_KEYRING],
      useFactory: (store: EventStore, gate: StreamTenantSealGate, secrets: SealSecrets, verifiers: UnsealVerifierStore, keks: KekSource, roots: TenantRootKeyring) =>
        new TenantSealCommands(store, gate, secrets, verifiers, dropTenantMaterial(keks, roots)),
    },
  ],
})
export class KeysModule {}

/**
 * HMAC(EKM_AUTH_SECRET, "ekm-id-derivation-v1"): the same on every replica (they share the secret; in
 * development the data-dir secret file), unknown to callers. Changing the secret changes the key id a
 * retried CreateKey derives, so a retry across a secret change creates a second key.
 */
export function idDerivationKeyFor(config: KeysConfig): Buffer {
  return servicePepperFor(config, 'ekm-id-derivation-v1');
}

/** HMAC(EKM_AUTH_SECRET, label): a per-purpose secret every replica derives alike and no database holds. */
export function servicePepperFor(config: KeysConfig, label: string): Buffer {
  const secret = resolveAuthSecret({ ...(config.authSecret !== undefined ? { secret: config.authSecret } : {}), env: config.env, dataDir: config.dataDir });
  return createHmac('sha256', secret).update(label).digest();
}
