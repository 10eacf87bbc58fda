/**
 * `ekm principal access-key create|list|delete`: AWS-style access keys (SigV4) for the AWS
 * KMS-compatible HTTPS API. The secret is shown once; `--aws-credentials-file` writes an AWS shared
 * credentials file (mode 0600) with one profile instead of printing it.
 */
import { Command } from 'commander';
import Table from 'cli-table3';
import type { AccessKeyInfo, IssuedAccessKey } from '@ekm/client';
import type { CliContext } from '../cli-context';
import { usageError } from '../cli-error';
import { withExamples } from '../help';
import { fieldLines } from '../output';
import { policyOf } from './principal.commands';

const PROFILE = /^[A-Za-z0-9_.-]{1,64}$/;

const keyLines = (k: AccessKeyInfo): string => fieldLines({ accessKeyId: k.accessKeyId, principal: k.principalId, tenant: k.tenant, status: k.status, created: k.createdAt, deleted: k.deletedAt ?? '-' });

/** The AWS shared credentials file of one profile (botocore and the AWS SDKs read this format). */
export function awsCredentialsFile(profile: string, k: IssuedAccessKey): string {
  return `[${profile}]\naws_access_key_id = ${k.accessKeyId}\naws_secret_access_key = ${k.secretAccessKey}\n`;
}

export function accessKeyCommand(ctx: CliContext): Command {
  const cmd = withExamples(new Command('access-key').description('AWS-style access keys (SigV4) of a principal, for the AWS KMS-compatible HTTPS API'),
    'ekm principal access-key create p-1234 --aws-credentials-file ~/.aws/ekm-credentials --profile ekm', 'ekm principal access-key list p-1234');

  withExamples(cmd.command('create').description('create an access key (at most 2 live per principal); the secret is shown once')
    .argument('<principal>', 'principal id')
    .option('--aws-credentials-file <file>', 'write an AWS shared credentials file here (mode 0600) instead of printing the secret')
    .option('--profile <name>', 'profile name in that file', 'default'),
  'ekm principal access-key create p-1234 --aws-credentials-file .ekm/aws/credentials --profile ekm')
    .action(async (principalId: string, o: { awsCredentialsFile?: string; profile: string }, self: Command) => {
      if (!PROFILE.test(o.profile)) throw usageError('--profile must be 1..64 characters of A-Z a-z 0-9 _ . -');
      const k = await policyOf(await ctx.api(self)).createAccessKey(principalId);
      if (o.awsCredentialsFile !== undefined) {
        ctx.writeFile('--aws-credentials-file', o.awsCredentialsFile, Buffer.from(awsCredentialsFile(o.profile, k)));
        const { secretAccessKey: _secret, ...info } = k;
        ctx.print(self, { accessKey: info, credentialsFile: o.awsCredentialsFile, profile: o.profile },
          () => `${keyLines(k)}secret written to ${o.awsCredentialsFile} (profile ${o.profile}, mode 0600)\n`);
        return;
      }
      ctx.print(self, k, () => `${keyLines(k)}\nSecret access key (shown once; store it like a password):\n${k.secretAccessKey}\n`);
    });

  withExamples(cmd.command('list').description("a principal's access keys (ids and dates; never secrets)").argument('<principal>', 'principal id'),
    'ekm principal access-key list p-1234')
    .action(async (principalId: string, _o: unknown, self: Command) => {
      const ks = await policyOf(await ctx.api(self)).listAccessKeys(principalId);
      ctx.print(self, { accessKeys: ks }, () => {
        const t = new Table({ head: ['access key id', 'status', 'created', 'deleted'] });
        for (const k of ks) t.push([k.accessKeyId, k.status, k.createdAt, k.deletedAt ?? '-']);
        return `${t.toString()}\n`;
      });
    });

  withExamples(cmd.command('delete').description('delete (revoke) an access key: SigV4 requests signed with it are refused at once').argument('<access-key-id>', 'AKIA... id')
    .option('--reason <text>', 'why (kept in the event log)'),
  'ekm principal access-key delete AKIAIOSFODNN7EXAMPLE --reason rotated')
    .action(async (id: string, o: { reason?: string }, self: Command) => {
      const k = await policyOf(await ctx.api(self)).deleteAccessKey(id, o.reason);
      ctx.print(self, k, () => keyLines(k));
    });
  return cmd;
}
