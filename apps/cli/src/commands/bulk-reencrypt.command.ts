/**
 * `ekm reencrypt-dir DIR`: re-wraps every blob file of a folder under its key's current primary version
 * (or another key), in batches of 100 (`re-encrypt-batch`), with a progress bar. Each file is replaced
 * atomically (temp file + rename) only when its item succeeded; failed files stay as they were and are
 * listed. The plaintext never leaves the service.
 */
import { readdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command } from 'commander';
import { Presets, SingleBar } from 'cli-progress';
import type { CliContext } from '../cli-context';
import { usageError } from '../cli-error';
import { withExamples } from '../help';
import { fieldLines } from '../output';
import { contextOption, withContext } from './crypto.commands';
import { collect, toStringMap } from '../args';

const BATCH = 100;

interface BulkOptions { context?: string[]; toContext?: string[]; toKey?: string; suffix: string }
interface Failure { file: string; code: string; message: string }

function blobFiles(dir: string, suffix: string): string[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    throw usageError(`DIR: cannot read folder ${dir}`);
  }
  return names.filter((n) => n.endsWith(suffix) && statSync(join(dir, n)).isFile()).sort();
}

export function bulkReencryptCommand(ctx: CliContext): Command {
  return withExamples(contextOption(new Command('reencrypt-dir')
    .description('re-encrypt every blob file in a folder (in place, batches of 100, progress bar); failed files are left unchanged and listed')
    .argument('<dir>', 'folder of raw ciphertext blob files')
    .option('--suffix <ext>', 'only files ending with this', '.blob')
    .option('--to-key <key>', 'destination key id or alias/NAME (default: each blob\'s own key, current primary)')
    .option('--to-context <k=v>', 'destination encryption context entry (repeatable; default: the same as --context)', collect), 'source encryption context entry'),
  'ekm reencrypt-dir ./blobs --context collection=docs', 'ekm reencrypt-dir ./blobs --context collection=docs --to-key alias/acme-docs-2026 --json')
    .action(async (dir: string, o: BulkOptions, self: Command) => {
      const files = blobFiles(dir, o.suffix);
      const source = withContext(o.context).encryptionContext;
      const dest = toStringMap('--to-context', o.toContext) ?? source;
      const api = await ctx.api(self);
      const bar = !ctx.isMachine(self) && process.stderr.isTTY === true && files.length > 0
        ? new SingleBar({ stream: process.stderr, format: 're-encrypting {bar} {value}/{total} blobs' }, Presets.shades_classic) : null;
      bar?.start(files.length, 0);
      const failures: Failure[] = [];
      let done = 0;
      try {
        for (let i = 0; i < files.length; i += BATCH) {
          const chunk = files.slice(i, i + BATCH);
          const results = await api.crypto.reEncryptBatch(chunk.map((f) => ({
            ciphertextBlob: readFileSync(join(dir, f)),
            ...(source ? { sourceEncryptionContext: source } : {}), ...(dest ? { destinationEncryptionContext: dest } : {}),
            ...(o.toKey !== undefined ? { destinationKeyId: o.toKey } : {}),
          })));
          results.forEach((r, k) => {
            const file = chunk[k]!;
            if (!r.ok) {
              failures.push({ file, code: r.error.code, message: r.error.message });
              return;
            }
            const tmp = join(dir, `.${file}.${process.pid}.tmp`);
            writeFileSync(tmp, r.value.ciphertextBlob, { mode: 0o600 });
            renameSync(tmp, join(dir, file));
            done++;
          });
          bar?.update(Math.min(i + chunk.length, files.length));
        }
      } finally {
        bar?.stop();
      }
      const summary = { files: files.length, reencrypted: done, failed: failures.length, failures };
      ctx.print(self, summary, () => `${fieldLines({ files: files.length, reencrypted: done, failed: failures.length })}${failures.map((f) => `  ${f.file}: ${f.code}: ${f.message}\n`).join('')}`);
      // Exit 1 when any file failed (the summary above says which), like any refused request.
      if (failures.length > 0) ctx.partialFailure(self, failures[0]!.code, `${failures.length} of ${files.length} blobs were not re-encrypted (first: ${failures[0]!.file})`);
    });
}
