/** `ekm mac generate|verify` (HMAC_256 keys). */
import { Command } from 'commander';
import { parseBase64 } from '../args';
import type { CliContext } from '../cli-context';
import { ExitCode } from '../exit-codes';
import { withExamples } from '../help';
import { fieldLines } from '../output';
import { contextOption, plaintextOf, withContext } from './crypto.commands';

export function macCommand(ctx: CliContext): Command {
  const mac = withExamples(new Command('mac').description('HMAC-SHA-256 tags with HMAC_256 keys'), 'ekm mac generate --key alias/acme-mac --text "order 42"');
  withExamples(contextOption(mac.command('generate').description('compute a MAC of a message (at most 4096 bytes)')
    .requiredOption('--key <key>', 'HMAC_256 key id or alias/NAME')
    .option('--in <file>', 'message file').option('--text <text>', 'message string (UTF-8)'), 'context entry the key\'s purpose binding requires'),
  'ekm mac generate --key alias/acme-mac --text "order 42" --json')
    .action(async (o: { key: string; in?: string; text?: string; context?: string[] }, self: Command) => {
      const input = { keyId: o.key, message: plaintextOf(o), ...withContext(o.context) };
      const r = await (await ctx.api(self)).crypto.generateMac(input);
      const out = { keyId: r.keyId, keyVersion: r.keyVersion, macAlgorithm: r.macAlgorithm, mac: r.mac.toString('base64') };
      ctx.print(self, out, () => fieldLines(out));
    });
  withExamples(contextOption(mac.command('verify').description('check a MAC; exits 1 when it does not match')
    .requiredOption('--key <key>', 'HMAC_256 key id or alias/NAME')
    .option('--in <file>', 'message file').option('--text <text>', 'message string (UTF-8)')
    .requiredOption('--mac <base64>', 'the MAC to check'), 'context entry the key\'s purpose binding requires'),
  'ekm mac verify --key alias/acme-mac --text "order 42" --mac "q1w2..."')
    .action(async (o: { key: string; in?: string; text?: string; mac: string; context?: string[] }, self: Command) => {
      const input = { keyId: o.key, message: plaintextOf(o), mac: parseBase64('--mac', o.mac), ...withContext(o.context) };
      const r = await (await ctx.api(self)).crypto.verifyMac(input);
      ctx.print(self, r, () => fieldLines({ keyId: r.keyId, keyVersion: r.keyVersion, macValid: r.macValid }));
      // A wrong MAC is an answer, not an error, but scripts test `ekm mac verify ... && ...`.
      if (!r.macValid) ctx.setExitCode(ExitCode.ServiceError);
    });
  return mac;
}
