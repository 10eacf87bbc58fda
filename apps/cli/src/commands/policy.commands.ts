/** `ekm policy put FILE|get|list|delete|simulate`: policy documents and "would X be allowed?". */
import { basename, extname } from 'node:path';
import { Command } from 'commander';
import type { PolicyInfo, SimulationResult } from '@ekm/client';
import { actionProblem, parsePolicyDocument } from '@ekm/policy-engine';
import { collect, readFileArg, toStringMap } from '../args';
import type { CliContext } from '../cli-context';
import { usageError } from '../cli-error';
import { withExamples } from '../help';
import { fieldLines } from '../output';
import { renderTable } from '../table';
import type { TerminalView } from '../terminal';
import { policyOf } from './principal.commands';

function policyText(p: PolicyInfo): string {
  return `${fieldLines({ policy: p.policyId, tenant: p.tenant, version: p.version })}${JSON.stringify(p.document, null, 2)}\n`;
}

function simulationText(d: SimulationResult, view?: TerminalView): string {
  const head = fieldLines({ allowed: d.allowed, policy: d.policyId ?? '-', statement: d.statementId ?? '-', reason: d.reason });
  if (d.trace.length === 0) return head;
  return `${head}${renderTable(['policy', 'statement', 'effect', 'outcome'], d.trace.map((e) => [e.policyId, e.statementId, e.effect, e.outcome]), view)}\n`;
}

/** A policy id from the file name (`acme-apps.json` → `acme-apps`). */
export function policyIdOf(file: string): string {
  return basename(file, extname(file));
}

export function policyCommand(ctx: CliContext): Command {
  const policy = withExamples(new Command('policy').description('access policies (JSON documents, versioned)'),
    'ekm policy put acme-apps.json --tenant acme', 'ekm policy simulate --principal p-1234 --action keys:Decrypt --key alias/acme-docs --context collection=docs');

  withExamples(policy.command('put').description('create or replace a policy from a JSON document (new version)')
    .argument('<file>', 'the policy document (JSON)')
    .requiredOption('--tenant <tenant>', 'owning tenant (* = operator policy for every tenant)')
    .option('--id <policyId>', 'policy id (default: the file name without extension)')
    .option('--expected-version <n>', 'refuse unless the stored version is n (0 = must not exist)', (v) => Number.parseInt(v, 10)),
  'ekm policy put acme-apps.json --tenant acme')
    .action(async (file: string, o: { tenant: string; id?: string; expectedVersion?: number }, self: Command) => {
      let document: unknown;
      try {
        document = JSON.parse(readFileArg('<file>', file).toString('utf8'));
      } catch (e) {
        if (e instanceof SyntaxError) throw usageError(`${file}: not valid JSON (${e.message})`);
        throw e;
      }
      // The policy service checks the same schema; checking here first makes a typo a usage error (exit 2) that sends nothing.
      const parsed = parsePolicyDocument(document);
      if (!parsed.ok) throw usageError(`${file}: ${parsed.issues.map((i) => `${i.path}: ${i.rule}`).join('; ')}`);
      const p = await policyOf(await ctx.api(self)).putPolicy({
        policyId: o.id ?? policyIdOf(file), tenant: o.tenant, document: document as PolicyInfo['document'],
        ...(o.expectedVersion !== undefined && !Number.isNaN(o.expectedVersion) ? { expectedVersion: o.expectedVersion } : {}),
      });
      ctx.print(self, p, () => policyText(p));
    });

  policy.command('get').description('show a policy').argument('<policyId>', 'policy id')
    .action(async (id: string, _o: unknown, self: Command) => {
      const p = await policyOf(await ctx.api(self)).getPolicy(id);
      ctx.print(self, p, () => policyText(p));
    });

  policy.command('list').description('policies you may administer').option('--tenant <tenant>', 'only this tenant')
    .action(async (o: { tenant?: string }, self: Command) => {
      const ps = await policyOf(await ctx.api(self)).listPolicies(o.tenant);
      ctx.print(self, { policies: ps }, (view) => `${renderTable(['policy', 'tenant', 'version', 'statements'], ps.map((p) => [p.policyId, p.tenant, p.version, p.document.statements.length]), view)}\n`);
    });

  policy.command('delete').description('delete a policy (its decisions stop within 1 s)').argument('<policyId>', 'policy id')
    .action(async (id: string, _o: unknown, self: Command) => {
      const r = await policyOf(await ctx.api(self)).deletePolicy(id);
      ctx.print(self, r, () => `policy ${r.policyId} deleted (was version ${r.version})\n`);
    });

  withExamples(policy.command('simulate').description('would this principal be allowed? (decision + evaluation trace)')
    .requiredOption('--principal <id>', 'principal id')
    .requiredOption('--action <action>', 'keys:<Operation>, e.g. keys:Decrypt')
    .option('--key <keyId>', 'key id or alias/NAME (described through the keys service for its tenant, tags and aliases)')
    .option('--tenant <tenant>', 'resource tenant (when no --key, e.g. for keys:CreateKey)')
    .option('--context <k=v>', 'encryption context entry (repeatable)', collect)
    .option('--at <iso>', 'evaluate time conditions at this time'),
  'ekm policy simulate --principal p-1234 --action keys:Decrypt --key alias/acme-docs --context collection=docs')
    .action(async (o: { principal: string; action: string; key?: string; tenant?: string; context?: string[]; at?: string }, self: Command) => {
      const bad = actionProblem(o.action, true);
      if (bad) throw usageError(`--action ${bad}`);
      const api = await ctx.api(self);
      let resource: { keyId?: string; tenant?: string; tags?: Record<string, string>; aliases?: string[] } = o.tenant !== undefined ? { tenant: o.tenant } : {};
      if (o.key !== undefined) {
        const info = await api.keys.describeKey(o.key);
        resource = { keyId: info.keyId, tenant: info.tenant, tags: { ...info.tags }, aliases: [...info.aliases] };
      }
      const context = toStringMap('--context', o.context);
      const d = await policyOf(api).simulate({ principalId: o.principal, action: o.action, resource, ...(context ? { encryptionContext: context } : {}), ...(o.at !== undefined ? { now: o.at } : {}) });
      ctx.print(self, d, (view) => simulationText(d, view));
    });
  return policy;
}
