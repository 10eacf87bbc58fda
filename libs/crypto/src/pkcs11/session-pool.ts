import * as pkcs11js from 'pkcs11js';
import { RootConfigInvalidError, RootKeyUnavailableError } from '../errors';
import { ckrName, initialize, pkcs11Code } from './pkcs11-library';

type Handle = pkcs11js.Handle;
export type Lease = { session: Handle; rootKey: Handle; generation: number };

export type SessionPoolConfig = {
  lib: pkcs11js.PKCS11;
  tokenLabel: string;
  pin: string;
  size: number;
  /** Finds or creates the root key in a logged-in session; throws RootConfigInvalidError if unsafe. */
  findRootKey: (session: Handle) => Handle;
};

/**
 * N read-write sessions on one token; an operation borrows one, so no two threads ever share a
 * session (PKCS#11 sessions are not thread-safe). Login state belongs to the application, not the
 * session: one C_Login covers all N (a second one answers CKR_USER_ALREADY_LOGGED_IN, accepted),
 * and it ends when the application's last session on the token closes — so a rebuild logs in again.
 * The pool is rebuilt as a whole; leases from an older generation are dropped on release.
 */
export class SessionPool {
  private sessions: Handle[] = [];
  private idle: Handle[] = [];
  private rootKey: Handle | null = null;
  private generation = 0;
  private waiters: Array<{ resolve: (l: Lease) => void; reject: (e: Error) => void }> = [];
  private closed = false;

  constructor(private readonly config: SessionPoolConfig) {}

  /** Opens the sessions, logs in and finds the root key. Throws RootKeyUnavailableError / RootConfigInvalidError. */
  build(): void {
    if (this.closed) throw new RootKeyUnavailableError('PKCS#11 root of trust is closed', 'CLOSED');
    this.teardown();
    const { lib, tokenLabel, pin, size, findRootKey } = this.config;
    try {
      const slot = this.findSlot();
      for (let i = 0; i < size; i++) this.sessions.push(lib.C_OpenSession(slot, pkcs11js.CKF_SERIAL_SESSION | pkcs11js.CKF_RW_SESSION));
      try {
        lib.C_Login(this.sessions[0], pkcs11js.CKU_USER, pin);
      } catch (e) {
        if (pkcs11Code(e) !== pkcs11js.CKR_USER_ALREADY_LOGGED_IN) throw e;
      }
      this.rootKey = findRootKey(this.sessions[0]);
    } catch (e) {
      this.teardown();
      if (pkcs11Code(e) === pkcs11js.CKR_CRYPTOKI_NOT_INITIALIZED) initialize(lib); // someone finalized: ready for the next try
      if (e instanceof RootKeyUnavailableError || e instanceof RootConfigInvalidError) throw e;
      throw new RootKeyUnavailableError(`PKCS#11 token "${tokenLabel}" is unavailable: ${ckrName(e)}`, ckrName(e));
    }
    this.generation++;
    this.idle = [...this.sessions];
    while (this.waiters.length > 0 && this.idle.length > 0) this.waiters.shift()!.resolve(this.lease(this.idle.pop()!));
  }

  async acquire(): Promise<Lease> {
    if (this.closed) throw new RootKeyUnavailableError('PKCS#11 root of trust is closed', 'CLOSED');
    if (this.sessions.length === 0) this.buildOrFailWaiters(); // broken by an earlier failed rebuild: try again now
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
    const { lib, tokenLabel } = this.config;
    for (const slot of lib.C_GetSlotList(true)) {
      if (lib.C_GetTokenInfo(slot).label.trimEnd() === tokenLabel) return slot;
    }
    throw new RootKeyUnavailableError(`PKCS#11 token "${tokenLabel}" not found`, 'TOKEN_NOT_FOUND');
  }

  private teardown(): void {
    for (const s of this.sessions) {
      try {
        this.config.lib.C_CloseSession(s);
      } catch (e) {
        if (pkcs11Code(e) === pkcs11js.CKR_CRYPTOKI_NOT_INITIALIZED) initialize(this.config.lib);
        // already closed or the token is gone: nothing to release
      }
    }
    this.sessions = [];
    this.idle = [];
    this.rootKey = null;
    this.generation++; // outstanding leases are stale from here on
  }
}
