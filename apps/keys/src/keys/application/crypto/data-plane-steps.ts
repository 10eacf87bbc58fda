/**
 * The steps every data-plane operation shares, between the access steps (KeyAccess) and the usage
 * record (runRecorded): context check, grant, GCM budget, KEK use, blob opening. Each operation file
 * (`*.op.ts`) is its own sequence of these steps.
 */
import { assertEncryptionContext, decryptBlob, EncryptionContextInvalidError, parseBlob, type ParsedBlob } from '@ekm/crypto';
import type { CryptoOperation } from '../../domain';
import type { CallFailure } from '../call-failures';
import { deadlinePassed, type Attempt, type CallMeta, type UsageFacts } from '../call-pipeline';
import { DependencyUnavailableError } from '../dependency-unavailable';
import type { BudgetRotation } from './budget-rotation';
import type { KekSource } from './crypto.ports';
import { fromB64 } from './crypto.requests';
import type { GcmBudget } from './gcm-budget';
import type { AccessRequest, Granted, KeyAccess, KeyGrant } from './key-access';

export type Ctx = Readonly<Record<string, string>>;

export type Opened =
  | { ok: true; keyId: string; version: number; plaintext: Buffer; facts: UsageFacts }
  | { ok: false; failure: CallFailure; facts: UsageFacts };

export const failed = <T>(failure: CallFailure, facts: UsageFacts): Attempt<T> => ({ ok: false, failure, facts });

/**
 * A key the operation may use now, with its usage facts; or the refusal, already in the shape of a
 * failed {@link Attempt} (an operation returns it as it is).
 */
export type Admitted =
  | { readonly ok: true; readonly grant: KeyGrant; readonly facts: UsageFacts }
  | { readonly ok: false; readonly failure: CallFailure; readonly facts: UsageFacts };

/** What an operation asks of {@link DataPlaneSteps.admit}. */
export interface Admission {
  readonly operation: CryptoOperation;
  readonly context: Ctx;
  /** `keys:<Action>` for the authorizer; defaults to `keys:<operation>`. */
  readonly action?: string;
  /** Encrypting calls take one AES-GCM invocation from the version's budget once granted. */
  readonly spend?: boolean;
}

export class DataPlaneSteps {
  constructor(
    readonly access: KeyAccess,
    readonly keks: KekSource,
    private readonly budget: GcmBudget,
    private readonly rotation: BudgetRotation,
  ) {}

  grant(keyRef: string, req: AccessRequest): Promise<Granted> {
    return this.access.checkRef(keyRef, req);
  }

  /**
   * The opening every operation that names its key shares: the encryption context is checked (nothing
   * is looked up for a malformed one), then {@link admit}.
   */
  async begin(keyRef: string, meta: CallMeta, a: Admission): Promise<Admitted> {
    const bad = contextProblem(a.context);
    if (bad) return { ok: false, failure: bad, facts: { operation: a.operation } };
    return this.admit(keyRef, meta, a);
  }

  /** Grant (access steps, the primary version) → the usage facts → the GCM budget when `spend`. Context already checked. */
  async admit(keyRef: string, meta: CallMeta, a: Admission): Promise<Admitted> {
    const { operation, context } = a;
    const { principal } = meta;
    const g = await this.grant(keyRef, a.action === undefined ? { principal, operation, context } : { principal, operation, context, action: a.action });
    if (!g.ok) return { ok: false, failure: g.failure, facts: refusedFacts(operation, context, g) };
    const facts = grantedFacts(operation, context, g.grant);
    // Authorizing may have waited on the policy service: nothing is spent or computed for a caller gone.
    const late = deadlinePassed(meta, operation);
    if (late) return { ok: false, failure: late, facts };
    if (a.spend === true) {
      const spent = await this.spend(g.grant);
      if (spent) return { ok: false, failure: spent, facts };
    }
    return { ok: true, grant: g.grant, facts };
  }

  /** Takes one GCM invocation; starts the forced rotation at the threshold; refuses at the budget. */
  async spend(grant: KeyGrant): Promise<CallFailure | null> {
    let taken;
    try {
      taken = await this.budget.take(grant.keyId, grant.version);
    } catch {
      throw new DependencyUnavailableError('the AES-GCM counter store');
    }
    if (!taken.ok || taken.rotate) void this.rotation.request(grant.keyId, grant.version);
    return taken.ok ? null : { kind: 'BUDGET_EXHAUSTED', keyId: grant.keyId, version: grant.version };
  }

  /** Parses the blob, checks the keyId given (must be the blob's key), access to its version, and decrypts. */
  async openBlob(b64: string, keyRef: string | undefined, context: Ctx, meta: CallMeta, operation: CryptoOperation, action: string, contextField = 'encryptionContext'): Promise<Opened> {
    const bad = contextProblem(context, contextField);
    if (bad) return { ok: false, failure: bad, facts: { operation } };
    const bytes = fromB64(b64);
    let parsed: ParsedBlob;
    try {
      if (bytes === null) throw new Error('not base64');
      parsed = parseBlob(bytes);
    } catch {
      return { ok: false, failure: { kind: 'INVALID_CIPHERTEXT' }, facts: { operation, context } };
    }
    if (keyRef !== undefined) {
      const given = await this.access.resolve(keyRef);
      if (given === null) return { ok: false, failure: { kind: 'KEY_NOT_FOUND', keyRef }, facts: { operation, context } };
      // A blob of another key is a ciphertext problem, reported without detail (no oracle on key ids).
      if (given !== parsed.keyId) return { ok: false, failure: { kind: 'INVALID_CIPHERTEXT' }, facts: { operation, context, keyId: given } };
    }
    const g = await this.access.check(parsed.keyId, { principal: meta.principal, operation, action, context, version: parsed.keyVersion, fromBlob: true });
    if (!g.ok) return { ok: false, failure: g.failure, facts: refusedFacts(operation, context, g) };
    const facts = grantedFacts(operation, context, g.grant);
    const plaintext = await this.keks.withKek(g.grant.keyId, g.grant.version, (kek) => decryptBlob(parsed, kek, context));
    return { ok: true, keyId: g.grant.keyId, version: g.grant.version, plaintext, facts };
  }
}

export function contextProblem(context: unknown, field = 'encryptionContext'): CallFailure | null {
  try {
    assertEncryptionContext(context);
    return null;
  } catch (err) {
    if (err instanceof EncryptionContextInvalidError) return { kind: 'INVALID_CONTEXT', field, message: err.message };
    throw err;
  }
}

/** The usage facts of a refused grant: what is known of the key and version. */
export function refusedFacts(operation: string, context: Ctx, g: Extract<Granted, { ok: false }>): UsageFacts {
  return { operation, context, ...(g.keyId !== undefined ? { keyId: g.keyId } : {}), ...(g.version !== undefined ? { keyVersion: g.version } : {}) };
}

export function grantedFacts(operation: string, context: Ctx, grant: KeyGrant): UsageFacts {
  return { operation, context, keyId: grant.keyId, keyVersion: grant.version, tenant: grant.state.tenant };
}
