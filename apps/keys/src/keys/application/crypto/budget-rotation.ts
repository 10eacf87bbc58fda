/**
 * Forced rotation before a KEK version reaches its AES-GCM budget. Every replica that sees the
 * threshold may ask, once per version per process; the command id derives from (keyId, version,
 * 'budget'), so the event store appends the rotation once however many replicas race, and a replica
 * that lost sees the key already rotated.
 */
import { randomUUID } from 'node:crypto';
import { keyFingerprint, type KeyMaterial } from '@ekm/crypto';
import { asKeyId, type RotateKey } from '../../domain';
import type { WrappedKek } from '../epochs/epoch.ports';
import type { KeyCommandHandler, KeyStateReader } from '../ports';

/** Where fresh KEKs come from: the TenantRootKeyring (under the tenant's root, inside the current epoch). */
export interface KekGenerator {
  generateKek(tenant: string): Promise<{ material: KeyMaterial; wrapped: WrappedKek }>;
}

export const BUDGET_ACTOR = 'ekm-keys/gcm-budget';

/** The idempotency key of the forced rotation of one version. */
export const budgetCommandId = (keyId: string, version: number): string => `budget:${keyId}:${version}`;


export interface BudgetRotationLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
}

export type BudgetRotationOutcome = 'ROTATED' | 'ALREADY_ROTATED' | 'REJECTED' | 'FAILED' | 'SKIPPED';

export class BudgetRotation {
  private readonly asked = new Map<string, Promise<BudgetRotationOutcome>>();

  constructor(
    private readonly commands: KeyCommandHandler,
    private readonly reader: KeyStateReader,
    private readonly root: KekGenerator,
    private readonly logger: BudgetRotationLogger,
    private readonly now: () => Date = () => new Date(),
  ) {}

  /** Starts (at most once per version in this process) the rotation; never throws. */
  request(keyId: string, version: number): Promise<BudgetRotationOutcome> {
    const k = `${keyId}:${version}`;
    let p = this.asked.get(k);
    if (!p) {
      p = this.rotate(keyId, version).then(
        (outcome) => {
          // A failure may be retried by the next encryption past the threshold.
          if (outcome === 'FAILED') this.asked.delete(k);
          return outcome;
        },
      );
      this.asked.set(k, p);
    }
    return p;
  }

  private async rotate(keyId: string, version: number): Promise<BudgetRotationOutcome> {
    try {
      this.reader.invalidate(keyId);
      const state = await this.reader.load(keyId);
      if (state === null || state.status !== 'Enabled') return 'SKIPPED';
      if (state.primary !== version) return 'ALREADY_ROTATED';
      const next = state.highestVersion + 1;
      const { material, wrapped } = await this.root.generateKek(state.tenant);
      let fingerprint: string;
      try {
        fingerprint = keyFingerprint(material);
      } finally {
        material.dispose();
      }
      const cmd: RotateKey = {
        type: 'RotateKey',
        data: { keyId: asKeyId(keyId), reason: 'BUDGET', materialRef: randomUUID(), fingerprint },
        meta: { actor: BUDGET_ACTOR, commandId: budgetCommandId(keyId, version), now: this.now().toISOString() },
      };
      const out = await this.commands.handle(cmd, { material: { version: next, wrapped } });
      this.reader.invalidate(keyId);
      if (!out.ok) {
        this.logger.warn({ keyId, version, rejection: out.rejection.code }, 'forced GCM-budget rotation refused');
        return 'REJECTED';
      }
      this.logger.info({ keyId, from: version, to: out.state.primary }, 'forced GCM-budget rotation');
      return out.state.primary === version ? 'ALREADY_ROTATED' : 'ROTATED';
    } catch (err) {
      this.logger.warn({ keyId, version, err: err instanceof Error ? err.name : 'error' }, 'forced GCM-budget rotation failed');
      return 'FAILED';
    }
  }
}
