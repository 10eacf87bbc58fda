import * as pkcs11js from 'pkcs11js';
import { RootKeyUnavailableError } from '../errors';
import { ckrName, pkcs11Code } from './pkcs11-library';

/** How long a re-initialization waits for in-flight calls before giving up (it never finalizes under a running call). */
const DRAIN_TIMEOUT_MS = 5000;

/**
 * One per loaded PKCS#11 library: the only place that calls C_Initialize / C_Finalize after load.
 *
 * Why a full re-initialization at all: SoftHSM2 marks a token whose directory vanished as invalid for
 * the rest of the library's life (C_OpenSession answers CKR_GENERAL_ERROR even after the directory is
 * back); only C_Finalize + C_Initialize rescans it. A real HSM whose connection dropped behaves alike.
 *
 * Finalizing invalidates every session and object handle of every root sharing the library, and the
 * handle numbers are reused afterwards (a stale session handle may name another root's new session).
 * So `epoch` counts finalizations: a SessionPool built under an older epoch drops its handles without
 * closing them and rebuilds. Calls run inside `guard`; a re-initialization waits until none is in
 * flight (C_Finalize under a running C_UnwrapKey on the thread pool would be a use-after-free) and
 * holds new calls back until it is done.
 */
export class LibraryGate {
  /** Bumped whenever the library was (or may have been) finalized: every handle from before is stale. */
  epoch = 0;
  private initialized = true;
  private inFlight = 0;
  private drainWaiters: Array<() => void> = [];
  private reinit: Promise<boolean> | null = null;
  private lastReinitAt = Number.NEGATIVE_INFINITY;

  constructor(
    readonly lib: pkcs11js.PKCS11,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** Runs one PKCS#11 operation (with its pool lease); waits while a re-initialization is running. */
  async guard<T>(op: () => Promise<T>): Promise<T> {
    while (this.reinit) await this.reinit;
    this.inFlight++;
    try {
      return await op();
    } finally {
      if (--this.inFlight === 0) for (const done of this.drainWaiters.splice(0)) done();
    }
  }

  /**
   * C_Finalize + C_Initialize(CKF_OS_LOCKING_OK), at most once per `minIntervalMs` for the library
   * (a token that stays away must not turn every request into a rescan). Resolves true when a
   * re-initialization happened (by this call or one already running), false when rate-limited or
   * when in-flight calls did not finish in time. A failed C_Initialize (token directory still gone)
   * leaves the library uninitialized; `ensureInitialized` retries it on the next pool build.
   */
  async reinitialize(minIntervalMs: number): Promise<boolean> {
    if (this.reinit) return this.reinit;
    if (this.now() - this.lastReinitAt < minIntervalMs) return false;
    this.lastReinitAt = this.now();
    this.reinit = this.drain()
      .then((drained) => {
        if (!drained) return false;
        try {
          this.lib.C_Finalize();
        } catch {
          // CKR_CRYPTOKI_NOT_INITIALIZED after an earlier failed C_Initialize: nothing to finalize
        }
        this.epoch++;
        this.initialized = false;
        this.tryInitialize();
        return true;
      })
      .finally(() => {
        this.reinit = null;
      });
    return this.reinit;
  }

  /** Before a pool build: initializes again if an earlier attempt failed. Throws RootKeyUnavailableError. */
  ensureInitialized(): void {
    if (this.initialized) return;
    const error = this.tryInitialize();
    if (error !== undefined) throw new RootKeyUnavailableError(`C_Initialize failed: ${error}`, error);
  }

  /** Someone else finalized the library (CKR_CRYPTOKI_NOT_INITIALIZED): every handle is stale. */
  markFinalized(): void {
    this.epoch++;
    this.initialized = false;
  }

  /** The CKR name of the failure, or undefined on success. */
  private tryInitialize(): string | undefined {
    try {
      this.lib.C_Initialize({ flags: pkcs11js.CKF_OS_LOCKING_OK });
    } catch (e) {
      if (pkcs11Code(e) !== pkcs11js.CKR_CRYPTOKI_ALREADY_INITIALIZED) return ckrName(e);
    }
    this.initialized = true;
    return undefined;
  }

  private drain(): Promise<boolean> {
    if (this.inFlight === 0) return Promise.resolve(true);
    return new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), DRAIN_TIMEOUT_MS);
      this.drainWaiters.push(() => {
        clearTimeout(timer);
        resolve(true);
      });
    });
  }
}

const gates = new Map<pkcs11js.PKCS11, LibraryGate>();

/** The gate of a library loaded with loadPkcs11 (one per library object, so per path). */
export function libraryGate(lib: pkcs11js.PKCS11): LibraryGate {
  let gate = gates.get(lib);
  if (!gate) gates.set(lib, (gate = new LibraryGate(lib)));
  return gate;
}
