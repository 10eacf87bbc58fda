/**
 * FORWARD_LEDGER as one file beside the epoch keys: `<dataDir>/epochs/forward-ledger.json`, written
 * atomically (temp file, fsync, rename) at the end of every roll, before the older epoch keys are
 * destroyed. It holds wrapped bytes under a live epoch key only, never material: worthless without
 * the root of trust, like the database rows it mirrors.
 */
import { mkdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { EPOCH_DIR, writeDurably } from '@ekm/crypto';
import type { ForwardLedger, StoredKek, WrappedKek } from '../../application/epochs/epoch.ports';

const FORMAT = 'ekm-forward-ledger/v1';
export const FORWARD_LEDGER_FILE = 'forward-ledger.json';

type LedgerFile = { format: typeof FORMAT; epoch: string; entries: Record<string, string> };

export class FileForwardLedger implements ForwardLedger {
  private readonly path: string;
  private loaded: { mtimeMs: number; epoch: string; entries: Map<string, string> } | null = null;

  constructor(dataDir: string) {
    const dir = join(dataDir, EPOCH_DIR);
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    this.path = join(dir, FORWARD_LEDGER_FILE);
  }

  async write(epoch: string, entries: readonly StoredKek[]): Promise<void> {
    const file: LedgerFile = { format: FORMAT, epoch, entries: {} };
    for (const e of entries) {
      if (e.epoch !== epoch) throw new Error(`programmer error: ledger entry under ${e.epoch}, not ${epoch}`);
      file.entries[entryKey(e.keyId, e.version, e.materialRef)] = e.wrapped.toString('base64');
    }
    writeDurably(this.path, JSON.stringify(file));
    this.loaded = null;
  }

  async lookup(keyId: string, version: number, materialRef: string): Promise<WrappedKek | null> {
    const ledger = this.load();
    const wrapped = ledger?.entries.get(entryKey(keyId, version, materialRef));
    return ledger === null || wrapped === undefined ? null : { epoch: ledger.epoch, wrapped: Buffer.from(wrapped, 'base64') };
  }

  private load(): { epoch: string; entries: Map<string, string> } | null {
    let mtimeMs: number;
    try {
      mtimeMs = statSync(this.path).mtimeMs;
    } catch {
      return null;
    }
    if (this.loaded?.mtimeMs === mtimeMs) return this.loaded;
    const parsed = JSON.parse(readFileSync(this.path, 'utf8')) as Partial<LedgerFile>;
    if (parsed.format !== FORMAT || typeof parsed.epoch !== 'string' || typeof parsed.entries !== 'object' || parsed.entries === null) {
      throw new Error(`${this.path} is not a forward ledger (${FORMAT})`);
    }
    this.loaded = { mtimeMs, epoch: parsed.epoch, entries: new Map(Object.entries(parsed.entries)) };
    return this.loaded;
  }
}

// The material ref is part of the key: a restored row of the same version number with other material never matches.
const entryKey = (keyId: string, version: number, materialRef: string): string => `${keyId}\u0000${version}\u0000${materialRef}`;
