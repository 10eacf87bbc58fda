import * as pkcs11js from 'pkcs11js';
import { RootConfigInvalidError, RootKeyUnavailableError } from '../errors';
import type { LibraryGate } from './library-gate';
import { ckrName, pkcs11Code } from './pkcs11-library';

type Handle = pkcs11js.Handle;
export type Lease = { session: Handle; rootKey: Handle; generation: number };

export type SessionPoolConfig = {
  gate: LibraryGate;
  tokenLabel: string;
  pin: string;
  size: number;
  /**
   * Finds (on the first build, maybe creates) the root key in a logged-in session; throws
   * RootConfigInvalidError if unsafe. `isRebuild`: never create then, a missing key is unavailability.
   */
  findRootKey: (session: Handle, isRebuild: boolean) => Handle;
};

/**
 * N read-write sessions on one token; an operation borrows one, so no two threads ever share a
 * session (PKCS#11 sessions are not thread-safe). Login state belongs to the application, not the
 * session: one C_Login covers all N (a second one answers CKR_USER_ALREADY_LOGGED_IN, accepted),
 * and it ends when the application's last session on the token closes — so a rebuild logs in again.
 * The pool is rebuilt as a whole; leases from an older generation are dropped on release. After the
 * library was finalized (gate epoch moved) the old handles are dropped unclosed: their numbers may
 * already name another root's sessions.
 */
export class SessionPool {
  private sessions: Handle[] = [];
  private idle: Handle[] = [];
  private rootKey: Handle | null = null;
  private generation = 0;
  private waiters: Array<{ resolve: (l: Lease) => void; reject: (e: Error) => void }> = [];
  private closed = false;
  private builtEpoch = -1;
  private hasBuilt = false;

  constructor(private readonly config: SessionPoolConfig) {}

  /** Opens the sessions, logs in and finds the root key. Throws RootKeyUnavailableError / RootConfigInvalidError. */
  build(): void {
    if (this.closed) throw new RootKeyUnavailableError('PKCS#11 root of trust is closed', 'CLOSED');
    this.teardown();
    const { gate, tokenLabel, pin, size, findRootKey } = this.config;
    const lib = gate.lib;
    try {
      gate.ensureInitialized();
      this.builtEpoch = gate.epoch; // sessions opened from here on belong to this epoch
      const slot = this.findSlot();
      for (let i = 0; i < size; i++) this.sessions.push(lib.C_OpenSession(slot, pkcs11js.CKF_SERIAL_SESSION | pkcs11js.CKF_RW_SESSION));
      try {
        lib.C_Login(this.sessions[0], pkcs11js.CKU_USER, pin);
      } catch (e) {
        if (pkcs11Code(e) !== pkcs11js.CKR_USER_ALREADY_LOGGED_IN) throw e;
      }
      this.rootKey = findRootKey(this.sessions[0], this.hasBuilt);
    } catch (e) {
      if (pkcs11Code(e) === pkcs11js.CKR_CRYPTOKI_NOT_INITIALIZED) gate.markFinalized(); // someone finalized behind our back
      this.teardown();
      if (e instanceof RootKeyUnavailableError || e instanceof RootConfigInvalidError) throw e;
      throw new RootKeyUnavailableError(`PKCS#11 token "${tokenLabel}" is unavailable: ${ckrName(e)}`, ckrName(e));
    }
    this.generation++;
    this.hasBuilt = true;
    this.idle = [...this.sessions];
    while (this.waiters.length > 0 && this.idle.length > 0) this.waiters.shift()!.resolve(this.lease(this.idle.pop()!));
  }

  async acquire(): Promise<Lease> {
    if (this.closed) throw new RootKeyUnavailableError('PKCS#11 root of trust is closed', 'CLOSED');
    if (this.builtEpoch !== this.config.gate.epoch) this.teardown(); // the library was re-initialized: every handle is stale
    if (this.sessions.length === 0) this.buildOrFailWaiters(); // broken by an earlier failed rebuild, or stale: build now
    const session = this.idle.pop();
    if (session !== undefined) return this.lease(session);
    return new Promise<Lease>((resolve, reject) => this.waiters.push({ resolve, reject }));
  }

  release(lease: Lease): void {
    if (lease.generation !== this.generation || this.closed) return;
    const waiter = this.waiters.shift();
    if (waiter) waiter.resolve(this.lease(lease.session));
    else this.idle.push(lease.session);
  }

  /** Called after a session-lost error under `generation`; rebuilds unless someone already did. */
  rebuildAfter(generation: number): void {
    if (generation === this.generation && !this.closed) this.buildOrFailWaiters();
  }

  close(): void {
    this.closed = true;
    this.teardown();
    const error = new RootKeyUnavailableError('PKCS#11 root of trust is closed', 'CLOSED');
    for (const w of this.waiters.splice(0)) w.reject(error);
  }

  private buildOrFailWaiters(): void {
    try {
      this.build();
    } catch (e) {
      for (const w of this.waiters.splice(0)) w.reject(e as Error);
      throw e;
    }
  }

  private lease(session: Handle): Lease {
    return { session, rootKey: this.rootKey!, generation: this.generation };
  }

  private findSlot(): Handle {
    const { gate, tokenLabel } = this.config;
    const lib = gate.lib;
    for (const slot of lib.C_GetSlotList(true)) {
      if (lib.C_GetTokenInfo(slot).label.trimEnd() === tokenLabel) return slot;
    }
    throw new RootKeyUnavailableError(`PKCS#11 token "${tokenLabel}" not found`, 'TOKEN_NOT_FOUND');
  }

  private teardown(): void {
    const isStale = this.builtEpoch !== this.config.gate.epoch;
    for (const s of isStale ? [] : this.sessions) {
      try {
        this.config.gate.lib.C_CloseSession(s);
      } catch {
        // already closed or the token is gone: nothing to release
      }
    }
    this.sessions = [];
    this.idle = [];
    this.rootKey = null;
    this.generation++; // outstanding leases are stale from here on
  }
}
