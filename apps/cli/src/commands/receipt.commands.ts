/**
 * `ekm key receipt <key>` (fetch the signed destruction receipt from the audit service) and
 * `ekm key receipt verify <file>` (offline: no connection, only the receipt and the audit public key).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { Command } from 'commander';
import { verifyDestructionReceipt, type SignedDestructionReceipt } from '@ekm/client';
import type { CliContext, EkmApi } from '../cli-context';
import { usageError } from '../cli-error';
import { withExamples } from '../help';

/** The audit client on the CLI's connection (a typed client of the SDK facade). */
function auditOf(api: EkmApi): EkmApi['audit'] {
  return api.audit;
}

const summary = (s: SignedDestructionReceipt): string => {
  const r = s.receipt;
  const versions = r.versions.map((v) => `  v${v.version} commitment ${v.commitment} (trail #${v.createdTrailIndex})`).join('\n');
  return `key ${r.keyId} (tenant ${r.tenant ?? '-'}) destroyed ${r.destroyed.at} (trail #${r.destroyed.trailIndex})\n${versions}\n`
    + `epoch keys destroyed: ${r.epoch.destroyedEpochs.join(', ') || '-'} at ${r.epoch.at} (trail #${r.epoch.trailIndex}); new epoch ${r.epoch.newEpoch}\n`
    + `signed (Ed25519, audit key ${s.keyId}, public key ${s.publicKey})\n`;
};

export function keyReceiptCommand(ctx: CliContext): Command {
  const receipt = withExamples(
    new Command('receipt').description('the signed destruction receipt of a destroyed key (from the audit trail)')
      .argument('<key>', 'key id').option('--out <file>', 'also write the signed receipt (JSON) to this file'),
    'ekm key receipt 3f2504e0-4f89-41d3-9a0c-0305e82c3301 --out receipt.json',
    'ekm key receipt verify receipt.json --public-key <base64 audit key>',
  ).action(async (keyId: string, o: { out?: string }, self: Command) => {
    const signed = await auditOf(await ctx.api(self)).destructionReceipt(keyId);
    if (o.out !== undefined) writeFileSync(o.out, `${JSON.stringify(signed, null, 2)}\n`, { mode: 0o644 });
    ctx.print(self, signed, () => summary(signed));
  });

  withExamples(
    receipt.command('verify').description('check a receipt offline: Ed25519 signature by the audit key, and that the receipt shown is the one signed; exit 1 when not')
      .argument('<file>', 'the receipt (JSON, as written by ekm key receipt --out)')
      .option('--public-key <base64>', 'the audit service\'s published Ed25519 public key; without it the key inside the receipt is used (consistency only)'),
    'ekm key receipt verify receipt.json --public-key MCowBQYDK2VwAyEA...',
  ).action((file: string, o: { publicKey?: string }, self: Command) => {
    let signed: unknown;
    try {
      signed = JSON.parse(readFileSync(file, 'utf8'));
    } catch (e) {
      throw usageError(`cannot read the receipt ${file}: ${e instanceof Error ? e.message : String(e)}`);
    }
    const check = verifyDestructionReceipt(signed, o.publicKey);
    if (!check.ok) ctx.setExitCode(1);
    ctx.print(self, check, () => check.ok
      ? `OK: signed by audit key ${check.keyId}${check.trustedKey ? '' : ' (the key inside the receipt: pass --public-key to check it is the audit service\'s)'}\n`
      : `INVALID: ${check.reason}\n`);
  });
  return receipt;
}
