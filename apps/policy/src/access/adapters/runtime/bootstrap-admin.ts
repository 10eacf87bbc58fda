/**
 * Bootstrap admin: on first start (no principals at all) with EKM_BOOTSTRAP_CREDENTIALS_FILE set, the
 * policy service creates an operator-scope admin principal and writes its credential file there with
 * mode 0600 (written to a temporary file first, then renamed, so a reader never sees half a file).
 * Replicas racing at first start derive the same principal id from one command id: one append wins,
 * the others see a duplicate and write nothing.
 */
import { chmodSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { Inject, Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import { toCredentialFile } from '@ekm/auth';
import { OPERATOR_SCOPE } from '@ekm/policy-engine';
import { LOGGER, SERVICE_CONFIG } from '@ekm/service-kit';
import type { ServiceConfig } from '@ekm/config';
import type { Logger } from '@ekm/telemetry';
import { ADMIN_ROLE } from '../../domain/admin.rules';
import { ACCESS_DIRECTORY, type AccessDirectory } from '../../application/access.ports';
import { PrincipalAdmin } from '../../application/principal-admin.use-cases';
import { serviceIdentityOf } from './service-identity';

export const BOOTSTRAP_CREDENTIALS_FILE_ENV = 'EKM_BOOTSTRAP_CREDENTIALS_FILE';
export const BOOTSTRAP_COMMAND_ID = 'bootstrap-admin';

export type BootstrapOutcome = 'created' | 'exists' | 'skipped' | 'raced';

@Injectable()
export class BootstrapAdmin implements OnApplicationBootstrap {
  constructor(
    private readonly admin: PrincipalAdmin,
    @Inject(ACCESS_DIRECTORY) private readonly directory: AccessDirectory,
    @Inject(SERVICE_CONFIG) private readonly config: ServiceConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.run(process.env[BOOTSTRAP_CREDENTIALS_FILE_ENV] || undefined);
  }

  async run(file: string | undefined): Promise<BootstrapOutcome> {
    const snapshot = await this.directory.refresh();
    if (snapshot.principals.size > 0) return 'exists';
    if (file === undefined) {
      this.logger.warn({ variable: BOOTSTRAP_CREDENTIALS_FILE_ENV }, 'no principals yet and no bootstrap credentials file configured; no admin created');
      return 'skipped';
    }
    const system = { principalId: 'system:bootstrap', tenant: OPERATOR_SCOPE, roles: [ADMIN_ROLE] };
    const now = new Date().toISOString();
    const r = await this.admin.create(system, { tenant: OPERATOR_SCOPE, roles: [ADMIN_ROLE], kind: 'person', name: 'bootstrap admin' },
      { actor: system.principalId, correlationId: BOOTSTRAP_COMMAND_ID, commandId: `CreatePrincipal:${BOOTSTRAP_COMMAND_ID}`, now });
    if (!r.ok) {
      this.logger.info({ failure: r.failure.kind }, 'bootstrap admin already created by another replica');
      return 'raced';
    }
    const natsUrl = this.config.natsServers.join(',');
    writePrivateFile(file, `${JSON.stringify(toCredentialFile(r.value.credential.principalId, { ...r.value.credential, publicKey: '' }, natsUrl, this.config.auth === 'required' ? serviceIdentityOf(this.config).publicKey : undefined), null, 2)}\n`);
    this.logger.info({ principalId: r.value.principal.principalId, file }, 'bootstrap admin created; credentials written (mode 0600)');
    return 'created';
  }
}

/** Writes `text` to `path` with mode 0600 (directory 0700 when created), atomically via rename. */
export function writePrivateFile(path: string, text: string): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, text, { mode: 0o600, flag: 'w' });
  chmodSync(tmp, 0o600);
  renameSync(tmp, path);
}
