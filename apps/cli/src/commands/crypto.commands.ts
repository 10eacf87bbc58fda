/** `ekm datakey generate`, `ekm encrypt`, `ekm decrypt`, `ekm reencrypt`: the data plane from a shell. */
import { Command } from 'commander';
import { collect, exactlyOne, parseBase64, parseIntBetween, readFileArg, toStringMap } from '../args';
import type { CliContext } from '../cli-context';
import { withExamples } from '../help';
import { fieldLines } from '../output';

const b64 = (b: Buffer): string => b.toString('base64');

interface BlobInput { in?: string; blob?: string }
/** The ciphertext of `--in FILE` (raw blob bytes) or `--blob B64`. */
export function blobOf(o: BlobInput): Buffer {
  const [option, value] = exactlyOne({ '--in': o.in, '--blob': o.blob });
  return option === '--in' ? readFileArg('--in', value) : parseBase64('--blob', value);
}

/** The plaintext of `--in FILE` (bytes) or `--text S` (UTF-8). */
export function plaintextOf(o: { in?: string; text?: string }): Buffer {
  const [option, value] = exactlyOne({ '--in': o.in, '--text': o.text });
  return option === '--in' ? readFileArg('--in', value) : Buffer.from(value, 'utf8');
}

export const contextOption = (cmd: Command, what = 'encryption context entry'): Command => cmd.option('--context <k=v>', `${what} (repeatable)`, collect);
const ctxMap = (entries: string[] | undefined, option = '--context'): Record<string, string> | undefined => toStringMap(option, entries);
export const withContext = (entries: string[] | undefined): { encryptionContext?: Record<string, string> } => {
  const m = ctxMap(entries);
  return m ? { encryptionContext: m } : {};
};

export function dataCommands(ctx: CliContext): Command[] {
  const datakey = withExamples(new Command('datakey').description('data keys (DEKs) for envelope encryption'), 'ekm datakey generate --key alias/acme-docs --context collection=docs --json');
  withExamples(contextOption(datakey.command('generate').description('generate a data key: use the plaintext, store the ciphertext blob')
    .requiredOption('--key <key>', 'key id or alias/NAME')
    .option('--bytes <n>', 'data key length in bytes (1-1024, default 32)', (v) => parseIntBetween('--bytes', v, 1, 1024))
    .option('--no-plaintext', 'return only the wrapped data key')),
  'ekm datakey generate --key alias/acme-docs --context tenant=acme --context collection=docs --json',
  'ekm datakey generate --key alias/acme-docs --context collection=docs --no-plaintext')
    .action(async (o: { key: string; bytes?: number; plaintext: boolean; context?: string[] }, self: Command) => {
      const input = { keyId: o.key, ...withContext(o.context), ...(o.bytes !== undefined ? { numberOfBytes: o.bytes } : {}) };
      const api = await ctx.api(self);
      if (!o.plaintext) {
        const dk = await api.crypto.generateDataKeyWithoutPlaintext(input);
        const out = { keyId: dk.keyId, keyVersion: dk.keyVersion, ciphertextBlob: b64(dk.ciphertextBlob) };
        ctx.print(self, out, () => fieldLines(out));
        return;
      }
      const dk = await api.crypto.generateDataKey(input);
      const out = { keyId: dk.keyId, keyVersion: dk.keyVersion, plaintext: b64(dk.plaintext), ciphertextBlob: b64(dk.ciphertextBlob) };
      dk.plaintext.fill(0);
      ctx.print(self, out, () => fieldLines(out));
    });

  const encrypt = withExamples(contextOption(new Command('encrypt').description('encrypt up to 4096 bytes under a key')
    .requiredOption('--key <key>', 'key id or alias/NAME')
    .option('--in <file>', 'plaintext file').option('--text <text>', 'plaintext string (UTF-8)')
    .option('--out <file>', 'write the raw ciphertext blob to a file')),
  'ekm encrypt --key alias/acme-docs --context collection=docs --text "hello" --json',
  'ekm encrypt --key alias/acme-docs --context collection=docs --in secret.txt --out secret.ekm')
    .action(async (o: { key: string; in?: string; text?: string; out?: string; context?: string[] }, self: Command) => {
      const input = { keyId: o.key, plaintext: plaintextOf(o), ...withContext(o.context) };
      const r = await (await ctx.api(self)).crypto.encrypt(input);
      const plaintext = input.plaintext;
      plaintext.fill(0);
      if (o.out !== undefined) ctx.writeFile('--out', o.out, r.ciphertextBlob);
      const out = { keyId: r.keyId, keyVersion: r.keyVersion, ciphertextBlob: b64(r.ciphertextBlob) };
      ctx.print(self, out, () => fieldLines(o.out !== undefined ? { ...out, ciphertextBlob: `written to ${o.out}` } : out));
    });

  const decrypt = withExamples(contextOption(new Command('decrypt').description('decrypt a ciphertext blob (it names its key and version)')
    .option('--key <key>', 'refuse blobs of any other key')
    .option('--in <file>', 'raw ciphertext blob file').option('--blob <base64>', 'ciphertext blob, base64')
    .option('--out <file>', 'write the plaintext to a file (mode 0600) instead of stdout')),
  'ekm decrypt --context collection=docs --blob "RUtNAQE..." ',
  'ekm decrypt --key alias/acme-docs --context collection=docs --in secret.ekm --json')
    .action(async (o: BlobInput & { key?: string; out?: string; context?: string[] }, self: Command) => {
      const input = { ciphertextBlob: blobOf(o), ...withContext(o.context), ...(o.key !== undefined ? { keyId: o.key } : {}) };
      const r = await (await ctx.api(self)).crypto.decrypt(input);
      if (o.out !== undefined) ctx.writeFile('--out', o.out, r.plaintext);
      const json = { keyId: r.keyId, keyVersion: r.keyVersion, plaintext: b64(r.plaintext) };
      // People get the plaintext itself (pipeable); with --out, where it went.
      ctx.print(self, json, () => (o.out !== undefined ? fieldLines({ keyId: r.keyId, keyVersion: r.keyVersion, plaintext: `written to ${o.out}` }) : Buffer.from(r.plaintext)));
      r.plaintext.fill(0);
    });

  const reencrypt = withExamples(contextOption(new Command('reencrypt').description('re-encrypt a blob under a key\'s primary version; the plaintext stays in the service')
    .option('--in <file>', 'raw ciphertext blob file').option('--blob <base64>', 'ciphertext blob, base64')
    .option('--key <key>', 'refuse source blobs of any other key')
    .option('--to-key <key>', 'destination key id or alias/NAME (default: the blob\'s own key, under its current primary)')
    .option('--to-context <k=v>', 'destination encryption context entry (repeatable; default: the same entries as --context)', collect)
    .option('--out <file>', 'write the raw new blob to a file'), 'source encryption context entry'),
  'ekm reencrypt --blob "RUtNAQE..." --context collection=docs --to-key alias/acme-docs --json')
    .action(async (o: BlobInput & { key?: string; toKey?: string; toContext?: string[]; out?: string; context?: string[] }, self: Command) => {
      const ciphertextBlob = blobOf(o);
      const source = ctxMap(o.context);
      // The service binds an empty context when none is given; a CLI user re-encrypting in place means "the same".
      const dest = ctxMap(o.toContext, '--to-context') ?? source;
      const r = await (await ctx.api(self)).crypto.reEncrypt({
        ciphertextBlob, ...(o.toKey !== undefined ? { destinationKeyId: o.toKey } : {}),
        ...(source ? { sourceEncryptionContext: source } : {}), ...(dest ? { destinationEncryptionContext: dest } : {}),
        ...(o.key !== undefined ? { sourceKeyId: o.key } : {}),
      });
      if (o.out !== undefined) ctx.writeFile('--out', o.out, r.ciphertextBlob);
      const out = { keyId: r.keyId, keyVersion: r.keyVersion, sourceKeyId: r.sourceKeyId, sourceKeyVersion: r.sourceKeyVersion, ciphertextBlob: b64(r.ciphertextBlob) };
      ctx.print(self, out, () => fieldLines(out));
    });
  return [datakey, encrypt, decrypt, reencrypt];
}
