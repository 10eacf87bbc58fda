/**
 * The batch operations from a shell: `ekm datakey-batch` (generate-data-key-batch: N data keys in one
 * call) and `ekm decrypt-dir` (decrypt-batch over a folder of blob files, batches of 100, progress bar).
 * Per-item failures are listed in the result; the command exits 1 when any item failed (ctx.partialFailure).
 */
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command } from 'commander';
import { Presets, SingleBar } from 'cli-progress';
import { parseIntBetween } from '../args';
import type { CliContext } from '../cli-context';
import { usageError } from '../cli-error';
import { withExamples } from '../help';
import { fieldLines } from '../output';
import { contextOption, withContext } from './crypto.commands';

const BATCH = 100;
const b64 = (b: Buffer): string => b.toString('base64');

function filesIn(dir: string, suffix: string): string[] {
  try {
    return readdirSync(dir).filter((n) => n.endsWith(suffix) && statSync(join(dir, n)).isFile()).sort();
  } catch {
    throw usageError(`DIR: cannot read folder ${dir}`);
  }
}

export function batchCommands(ctx: CliContext): Command[] {
  const datakeyBatch = withExamples(contextOption(new Command('datakey-batch').description('generate up to 100 data keys in one call (generate-data-key-batch), each bound to the same context')
    .requiredOption('--key <key>', 'key id or alias/NAME')
    .requiredOption('--count <n>', 'how many data keys (1-100)', (v) => parseIntBetween('--count', v, 1, 100))
    .option('--bytes <n>', 'data key length in bytes (1-1024, default 32)', (v) => parseIntBetween('--bytes', v, 1, 1024))),
  'ekm datakey-batch --key alias/acme-docs --count 10 --context collection=docs --json')
    .action(async (o: { key: string; count: number; bytes?: number; context?: string[] }, self: Command) => {
      const item = { keyId: o.key, ...withContext(o.context), ...(o.bytes !== undefined ? { numberOfBytes: o.bytes } : {}) };
      const results = await (await ctx.api(self)).crypto.generateDataKeyBatch(Array.from({ length: o.count }, () => item));
      type Item = { ok: true; keyId: string; keyVersion: number; plaintext: string; ciphertextBlob: string } | { ok: false; error: { code: string; message: string } };
      const items: Item[] = results.map((r): Item => (r.ok
        ? { ok: true, keyId: r.value.keyId, keyVersion: r.value.keyVersion, plaintext: b64(r.value.plaintext), ciphertextBlob: b64(r.value.ciphertextBlob) }
        : { ok: false, error: { code: r.error.code, message: r.error.message } }));
      for (const r of results) if (r.ok) r.value.plaintext.fill(0);
      ctx.print(self, { items }, () => items.map((i, n) => (i.ok
        ? fieldLines({ item: n, keyId: i.keyId, keyVersion: i.keyVersion, plaintext: i.plaintext, ciphertextBlob: i.ciphertextBlob })
        : `item ${n}: ${i.error.code}: ${i.error.message}\n`)).join('\n'));
      const failed = results.find((r) => !r.ok);
      if (failed && !failed.ok) ctx.partialFailure(self, failed.error.code, `${results.filter((r) => !r.ok).length} of ${results.length} data keys failed`);
    });

  const decryptDir = withExamples(contextOption(new Command('decrypt-dir').description('decrypt every blob file of a folder (decrypt-batch, batches of 100, progress bar) into --out-dir')
    .argument('<dir>', 'folder of raw ciphertext blob files')
    .requiredOption('--out-dir <dir>', 'where the plaintext files go (same names, suffix removed), mode 0600')
    .option('--suffix <ext>', 'only files ending with this', '.blob')
    .option('--key <key>', 'refuse blobs of any other key')),
  'ekm decrypt-dir ./blobs --out-dir ./plain --context collection=docs')
    .action(async (dir: string, o: { outDir: string; suffix: string; key?: string; context?: string[] }, self: Command) => {
      const files = filesIn(dir, o.suffix);
      mkdirSync(o.outDir, { recursive: true, mode: 0o700 });
      const api = await ctx.api(self);
      const bar = !ctx.isMachine(self) && process.stderr.isTTY === true && files.length > 0
        ? new SingleBar({ stream: process.stderr, format: 'decrypting {bar} {value}/{total} blobs' }, Presets.shades_classic) : null;
      bar?.start(files.length, 0);
      const failures: { file: string; code: string; message: string }[] = [];
      let done = 0;
      try {
        for (let i = 0; i < files.length; i += BATCH) {
          const chunk = files.slice(i, i + BATCH);
          const results = await api.crypto.decryptBatch(chunk.map((f) => ({
            ciphertextBlob: readFileSync(join(dir, f)), ...withContext(o.context), ...(o.key !== undefined ? { keyId: o.key } : {}),
          })));
          results.forEach((r, k) => {
            const file = chunk[k]!;
            if (!r.ok) {
              failures.push({ file, code: r.error.code, message: r.error.message });
              return;
            }
            writeFileSync(join(o.outDir, file.slice(0, file.length - o.suffix.length) || file), r.value.plaintext, { mode: 0o600 });
            r.value.plaintext.fill(0);
            done++;
          });
          bar?.update(Math.min(i + chunk.length, files.length));
        }
      } finally {
        bar?.stop();
      }
      const summary = { files: files.length, decrypted: done, failed: failures.length, failures };
      ctx.print(self, summary, () => `${fieldLines({ files: files.length, decrypted: done, failed: failures.length })}${failures.map((f) => `  ${f.file}: ${f.code}: ${f.message}\n`).join('')}`);
      if (failures.length > 0) ctx.partialFailure(self, failures[0]!.code, `${failures.length} of ${files.length} blobs were not decrypted (first: ${failures[0]!.file})`);
    });

  return [datakeyBatch, decryptDir];
}
