/**
 * The keys service: its event log (schema `ekm_keys` + the keys tables, outbox relay to
 * `EKM_KEYS_EVENTS`), the `ekm.v1.keys.status` handler and the lifecycle API (control plane).
 * The data plane (GenerateDataKey/Encrypt/...) plugs in through keys/adapters/nats/crypto.module.ts.
 */
import { Module } from '@nestjs/common';
import type { KeysConfig } from '@ekm/config';
import { toInline } from '@ekm/event-store';
import { EventLogModule, RootBindingMigration, SERVICE_CONFIG } from '@ekm/service-kit';
import { DEFAULT_KEY_LIMITS, type KeyLifecycleLimits } from './keys/domain';
import { HandleKeyCommand, KEY_INLINE_PROJECTIONS, KEY_LIMITS } from './keys/application/handle-key-command';
import { KeyAdminUseCases } from './keys/application/key-admin.use-cases';
import { AUTHORIZER, KEY_COMMAND_HANDLER, KEY_MATERIAL_STORE, KEY_STATE_READER, ROOT_OF_TRUST } from './keys/application/ports';
import { authorizerProvider } from './keys/adapters/authz/allow-all.authorizer';
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
import { PgKeyStateReader } from './keys/adapters/postgres/key-state.reader';
import { KeysSchemaMigration } from './keys/adapters/postgres/keys-schema.migration';
import { RootOfTrustLifecycle, rootOfTrustProvider } from './keys/adapters/root-of-trust/root-of-trust.provider';
import { StatusController } from './system/status.controller';

/** EKM_DELETION_MIN_DAYS lowers the shortest deletion window (0 in tests: destroy right after scheduling). */
export const keyLimitsFor = (config: KeysConfig): KeyLifecycleLimits => ({ ...DEFAULT_KEY_LIMITS, minPendingWindowDays: config.deletionMinDays });

const eventLog = EventLogModule.forService('keys', { extraMigrations: [KeysSchemaMigration, GcmBudgetMigration, KeysClockMigration, RootBindingMigration] });

/**
 * The control plane's ports, in their own module so the data plane (CryptoModule) can import them:
 * ROOT_OF_TRUST, AUTHORIZER, KEY_STATE_READER, KEY_MATERIAL_STORE, KEY_COMMAND_HANDLER, KEY_LIMITS.
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
    { provide: KEY_STATE_READER, useClass: PgKeyStateReader },
    { provide: KEY_COMMAND_HANDLER, useClass: HandleKeyCommand },
  ],
  exports: [ROOT_OF_TRUST, AUTHORIZER, KEY_LIMITS, KEY_MATERIAL_STORE, KEY_STATE_READER, KEY_COMMAND_HANDLER],
})
export class KeysControlModule {}

@Module({
  imports: [eventLog, KeysControlModule, CryptoModule.forRoot({ imports: [eventLog, KeysControlModule] })],
  controllers: [StatusController, KeysAdminController, KeysAttributesController, KeysImportController, KeysVersionsController],
  providers: [PgImportTokenStore, KeyListQuery, KeyAdminUseCases, AdminCallRunner, KeyCommandReplies, DbClock, VersionRetirementCheck],
})
export class KeysModule {}
