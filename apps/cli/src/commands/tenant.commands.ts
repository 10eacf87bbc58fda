/**
 * `ekm tenant seal|unseal|status <tenant>`: the tenant kill switch. The unseal secret is read from a
 * file (never from argv, where `ps` and shell history would keep it).
 */
import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import { TenantsClient, type SealTenantInput, type TenantSealStatus } from '@ekm/client';
import type { CliContext } from '../cli-context';
import { usageError } from '../cli-error';
import { withExamples } from '../help';

const line = (s: TenantSealStatus): string => (s.sealed
  ? `tenant ${s.tenant}: SEALED since ${s.sealedAt ?? '?'}${s.secretRequired ? ' (unsealing needs the tenant-held secret)' : ''}\n`
  : `tenant ${s.tenant}: open\n`);

function secretFrom(file: string | undefined): string | undefined {
  if (file === undefined) return undefined;
  try {
    return readFileSync(file, 'utf8').replace(/\r?\n$/, '');
  } catch (e) {
    throw usageError(`cannot read the unseal secret file ${file}: ${e instanceof Error ? e.message : String(e)}`);
  }
}

const inputOf = (o: { reason?: string; secretFile?: string }): SealTenantInput => {
  const unsealSecret = secretFrom(o.secretFile);
  return { ...(o.reason !== undefined ? { reason: o.reason } : {}), ...(unsealSecret !== undefined ? { unsealSecret } : {}) };
};

export function tenantCommand(ctx: CliContext): Command {
  const cmd = withExamples(new Command('tenant').description('the tenant kill switch: seal a tenant (every operation on its keys refused, on every replica) and unseal it'),
    'ekm tenant seal acme --reason "incident"', 'ekm tenant status acme', 'ekm tenant unseal acme');
  const tenants = async (self: Command): Promise<TenantsClient> => new TenantsClient((await ctx.api(self)).client);

  withExamples(cmd.command('seal').description('seal a tenant: every operation on its keys fails with EKM_TENANT_SEALED until unsealed (admin of the tenant or operator)')
    .argument('<tenant>', 'tenant id')
    .option('--reason <text>', 'why (recorded in the audit trail)')
    .option('--secret-file <file>', 'a tenant-held unseal secret (16+ characters) read from this file; unsealing will require it'),
  'ekm tenant seal acme --reason "suspected credential leak"',
  'ekm tenant seal acme --secret-file ./acme-unseal.secret',
  ).action(async (tenant: string, o: { reason?: string; secretFile?: string }, self: Command) => {
    const s = await (await tenants(self)).sealTenant(tenant, inputOf(o));
    ctx.print(self, s, () => line(s));
  });

  withExamples(cmd.command('unseal').description('unseal a sealed tenant (with --secret-file when it was sealed with a secret)')
    .argument('<tenant>', 'tenant id')
    .option('--reason <text>', 'why (recorded in the audit trail)')
    .option('--secret-file <file>', 'the unseal secret given at seal time, read from this file'),
  'ekm tenant unseal acme --reason "incident closed"',
  'ekm tenant unseal acme --secret-file ./acme-unseal.secret',
  ).action(async (tenant: string, o: { reason?: string; secretFile?: string }, self: Command) => {
    const s = await (await tenants(self)).unsealTenant(tenant, inputOf(o));
    ctx.print(self, s, () => line(s));
  });

  withExamples(cmd.command('status').description('whether a tenant is sealed').argument('<tenant>', 'tenant id'),
    'ekm tenant status acme',
  ).action(async (tenant: string, _o: unknown, self: Command) => {
    const s = await (await tenants(self)).getTenantSealStatus(tenant);
    ctx.print(self, s, () => line(s));
  });
  return cmd;
}
