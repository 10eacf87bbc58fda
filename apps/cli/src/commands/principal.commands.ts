/** `ekm principal create|list|get|revoke|rotate-credential|revoke-credential`: principals and their credentials. */
import { Command, Option } from 'commander';
import { PolicyClient, type Ekm, type IssuedCredential, type PrincipalInfo } from '@ekm/client';
import { collect, parseIntBetween } from '../args';
import type { CliContext, EkmApi } from '../cli-context';
import { usageError } from '../cli-error';
import { withExamples } from '../help';
import { fieldLines } from '../output';
import { accessKeyCommand } from './access-key.commands';
import { renderTable } from '../table';
import type { TerminalView } from '../terminal';

/** The policy client on the CLI's connection (a typed client of the SDK facade). */
export function policyOf(api: EkmApi): EkmApi['policy'] {
  return api.policy;
}

export function principalTable(p: PrincipalInfo): string {
  return fieldLines({
    principal: p.principalId, tenant: p.tenant, roles: p.roles.join(','), kind: p.kind, name: p.name || '-', status: p.status, created: p.createdAt,
    credentials: p.credentials.map((c) => `${c.credentialId} (${c.status}${c.validUntil ? ` until ${c.validUntil}` : ''})`).join(', '),
  });
}

function principalListTable(ps: readonly PrincipalInfo[], view: TerminalView): string {
  return `${renderTable(['principal', 'tenant', 'roles', 'kind', 'name', 'status'], ps.map((p) => [p.principalId, p.tenant, p.roles.join(','), p.kind, p.name || '-', p.status]), view)}\n`;
}

/**
 * Shows a new credential once: with `--out FILE` it is written there (mode 0600) and only the ids are
 * printed; otherwise the credential file JSON is printed (save it with mode 0600).
 */
function emitCredential(ctx: CliContext, cmd: Command, r: { principal: PrincipalInfo; credential: IssuedCredential }, out: string | undefined, natsUrl: string | undefined): void {
  const file = { ...r.credential, ...(natsUrl ? { natsUrl } : {}) };
  if (out !== undefined) {
    ctx.writeFile('--out', out, Buffer.from(`${JSON.stringify(file, null, 2)}\n`));
    ctx.print(cmd, { principal: r.principal, credentialId: r.credential.credentialId, credentialsFile: out }, () => `${principalTable(r.principal)}credential ${r.credential.credentialId} written to ${out} (mode 0600)\n`);
    return;
  }
  ctx.print(cmd, { principal: r.principal, credential: file }, () => `${principalTable(r.principal)}\nCredential (shown once; save it with mode 0600, e.g. --out FILE):\n${JSON.stringify(file, null, 2)}\n`);
}

export function principalCommand(ctx: CliContext): Command {
  const principal = withExamples(new Command('principal').description('principals (services and people) and their credentials'),
    'ekm principal create --tenant acme --role app --out acme-app.credentials', 'ekm principal list --tenant acme');

  withExamples(principal.command('create').description('create a principal; its credential is shown once')
    .requiredOption('--tenant <tenant>', 'tenant of the principal (* = operator scope)')
    .requiredOption('--role <role>', 'role (repeatable), e.g. app, admin', collect)
    .addOption(new Option('--kind <kind>', 'what the principal is').choices(['service', 'person']).default('service'))
    .option('--name <name>', 'display name')
    .option('--out <file>', 'write the credential file here (mode 0600) instead of printing it'),
  'ekm principal create --tenant acme --role app --name indexer --out indexer.credentials')
    .action(async (o: { tenant: string; role: string[]; kind: 'service' | 'person'; name?: string; out?: string }, self: Command) => {
      const r = await policyOf(await ctx.api(self)).createPrincipal({ tenant: o.tenant, roles: o.role, kind: o.kind, ...(o.name !== undefined ? { name: o.name } : {}) });
      emitCredential(ctx, self, r, o.out, ctx.connection(self).url);
    });

  principal.command('list').description('principals you may administer').option('--tenant <tenant>', 'only this tenant')
    .action(async (o: { tenant?: string }, self: Command) => {
      const ps = await policyOf(await ctx.api(self)).listPrincipals(o.tenant);
      ctx.print(self, { principals: ps }, (view) => principalListTable(ps, view));
    });

  principal.command('get').description('show a principal').argument('<principal>', 'principal id')
    .action(async (id: string, _o: unknown, self: Command) => {
      const p = await policyOf(await ctx.api(self)).getPrincipal(id);
      ctx.print(self, p, () => principalTable(p));
    });

  principal.command('revoke').description('revoke a principal (its sessions stop within 1 s)').argument('<principal>', 'principal id')
    .option('--reason <text>', 'why (kept in the event log)')
    .action(async (id: string, o: { reason?: string }, self: Command) => {
      const p = await policyOf(await ctx.api(self)).revokePrincipal(id, o.reason);
      ctx.print(self, p, () => principalTable(p));
    });

  withExamples(principal.command('rotate-credential').description('issue a new credential; the current one stays valid for the grace period')
    .argument('<principal>', 'principal id')
    .option('--grace <seconds>', 'how long the current credential stays valid (0..2592000, default 3600)', (v) => parseIntBetween('--grace', v, 0, 30 * 86_400))
    .option('--out <file>', 'write the new credential file here (mode 0600)'),
  'ekm principal rotate-credential p-1234 --grace 600 --out indexer.credentials')
    .action(async (id: string, o: { grace?: number; out?: string }, self: Command) => {
      const r = await policyOf(await ctx.api(self)).rotateCredential(id, o.grace);
      emitCredential(ctx, self, r, o.out, ctx.connection(self).url);
    });

  principal.command('revoke-credential').description('revoke one credential of a principal').argument('<principal>', 'principal id').argument('<credential>', 'credential id')
    .option('--reason <text>', 'why')
    .action(async (id: string, cred: string, o: { reason?: string }, self: Command) => {
      if (!cred.trim()) throw usageError('<credential> must not be empty');
      const p = await policyOf(await ctx.api(self)).revokeCredential(id, cred, o.reason);
      ctx.print(self, p, () => principalTable(p));
    });
  principal.addCommand(accessKeyCommand(ctx));
  return principal;
}
