/**
 * `ekm tenant seal|unseal|status <tenant>`: the tenant kill switch; `ekm tenant root|set-external-root
 * <tenant>`: where the tenant's root key lives. Secrets (the unseal secret, the external KMS's
 * credentials) are read from files, never from argv, where `ps` and shell history would keep them.
 */
import { Command } from 'commander';
import { TenantsClient, type ExternalTenantRootInput, type SealTenantInput, type TenantRoot, type TenantSealStatus } from '@ekm/client';
import type { CliContext } from '../cli-context';
import { readFileArg } from '../args';
import { usageError } from '../cli-error';
import { withExamples } from '../help';

const line = (s: TenantSealStatus): string => (s.sealed
  ? `tenant ${s.tenant}: SEALED since ${s.sealedAt ?? '?'}${s.secretRequired ? ' (unsealing needs the tenant-held secret)' : ''}\n`
  : `tenant ${s.tenant}: open\n`);

const rootLine = (r: TenantRoot): string => (r.kind === 'EXTERNAL'
  ? `tenant ${r.tenant}: root in an external KMS (${r.external.endpoint}, ${r.external.region}, key ${r.external.keyId}), epoch ${r.epoch}\n`
  : r.kind === 'LOCAL' ? `tenant ${r.tenant}: root under EKM's root of trust, epoch ${r.epoch}\n` : `tenant ${r.tenant}: no root yet (made with its first key)\n`);

const readText = (option: string, file: string): string => readFileArg(option, file).toString('utf8');

/**
 * The external KMS credentials file: JSON `{"accessKeyId": ..., "secretAccessKey": ..., "sessionToken"?: ...}`.
 * Its contents never appear in an error (a message names the file and the field only).
 */
function credentialsFrom(file: string): ExternalTenantRootInput['credentials'] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readText('--credentials-file', file));
  } catch (e) {
    if (e instanceof SyntaxError) throw usageError(`the credentials file ${file} is not JSON: it must hold {"accessKeyId": "...", "secretAccessKey": "..."}`);
    throw e;
  }
  const c = parsed as Record<string, unknown> | null;
  const field = (k: string): string | undefined => (typeof c?.[k] === 'string' ? (c[k] as string) : undefined);
  const accessKeyId = field('accessKeyId');
  const secretAccessKey = field('secretAccessKey');
  if (accessKeyId === undefined || secretAccessKey === undefined) throw usageError(`the credentials file ${file} must hold the strings accessKeyId and secretAccessKey`);
  const sessionToken = field('sessionToken');
  return { accessKeyId, secretAccessKey, ...(sessionToken !== undefined ? { sessionToken } : {}) };
}

const secretFrom = (file: string | undefined): string | undefined => (file === undefined ? undefined : readText('--secret-file', file).replace(/\r?\n$/, ''));

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
  withExamples(cmd.command('root').description("where the tenant's root key lives: none yet, local (under EKM's root of trust) or in an external KMS").argument('<tenant>', 'tenant id'),
    'ekm tenant root acme',
  ).action(async (tenant: string, _o: unknown, self: Command) => {
    const r = await (await tenants(self)).describeTenantRoot(tenant);
    ctx.print(self, r, () => rootLine(r));
  });

  withExamples(cmd.command('set-external-root')
    .description("move the tenant's root key into an AWS-KMS-compatible KMS (hold your own key): disabling the key there then cuts the tenant within EKM_XKS_CACHE_MS; there is no way back to a local root")
    .argument('<tenant>', 'tenant id')
    .requiredOption('--endpoint <url>', 'https://host[:port] of the external KMS; must be in the keys service\'s EKM_XKS_ALLOWED_ENDPOINTS')
    .requiredOption('--region <region>', 'region name, e.g. eu-west-1')
    .requiredOption('--key-id <id>', 'the external key id or ARN')
    .requiredOption('--credentials-file <file>', 'JSON file {"accessKeyId", "secretAccessKey", "sessionToken"?} of a principal allowed Encrypt and Decrypt on the key')
    .option('--ca-file <file>', 'PEM of a CA to trust for the endpoint besides the system\'s'),
  'ekm tenant set-external-root acme --endpoint https://kms.eu-west-1.amazonaws.com --region eu-west-1 --key-id arn:aws:kms:eu-west-1:111122223333:key/… --credentials-file ./acme-kms.json',
  ).action(async (tenant: string, o: { endpoint: string; region: string; keyId: string; credentialsFile: string; caFile?: string }, self: Command) => {
    const input: ExternalTenantRootInput = {
      endpoint: o.endpoint, region: o.region, keyId: o.keyId, credentials: credentialsFrom(o.credentialsFile),
      ...(o.caFile !== undefined ? { caPem: readText('--ca-file', o.caFile) } : {}),
    };
    const r = await (await tenants(self)).setTenantRootExternal(tenant, input);
    ctx.print(self, r, () => rootLine(r));
  });
  return cmd;
}
