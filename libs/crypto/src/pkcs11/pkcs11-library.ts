import { existsSync } from 'node:fs';
import * as pkcs11js from 'pkcs11js';
import { RootKeyUnavailableError } from '../errors';

const loaded = new Map<string, pkcs11js.PKCS11>();

/**
 * Loads a PKCS#11 library and calls C_Initialize once per process and library, with
 * CKF_OS_LOCKING_OK: without it SoftHSM2 does no locking and concurrent calls from libuv's thread
 * pool (the *Async functions) deadlock. CKR_CRYPTOKI_ALREADY_INITIALIZED is accepted: another copy
 * of this module (e.g. a fresh jest module registry in the same process) initialized it.
 * C_Finalize happens only in LibraryGate.reinitialize (recovery), which makes every root sharing the
 * library rebuild its sessions.
 */
export function loadPkcs11(library: string): pkcs11js.PKCS11 {
  const existing = loaded.get(library);
  if (existing) return existing;
  if (!existsSync(library)) throw new RootKeyUnavailableError(`PKCS#11 library not found at ${library}`, 'LIBRARY_MISSING');
  const lib = new pkcs11js.PKCS11();
  try {
    lib.load(library);
  } catch {
    throw new RootKeyUnavailableError(`PKCS#11 library at ${library} could not be loaded`, 'LIBRARY_LOAD_FAILED');
  }
  initialize(lib);
  loaded.set(library, lib);
  return lib;
}

/** The first C_Initialize of a library; later ones go through LibraryGate. */
function initialize(lib: pkcs11js.PKCS11): void {
  try {
    lib.C_Initialize({ flags: pkcs11js.CKF_OS_LOCKING_OK });
  } catch (e) {
    if (pkcs11Code(e) !== pkcs11js.CKR_CRYPTOKI_ALREADY_INITIALIZED) {
      throw new RootKeyUnavailableError(`C_Initialize failed: ${ckrName(e)}`, ckrName(e));
    }
  }
}

/** The CKR_* code of a pkcs11js error, or undefined for anything else. Duck-typed: instanceof breaks across module registries. */
export function pkcs11Code(e: unknown): number | undefined {
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === 'number' ? code : undefined;
}

let names: Map<number, string> | undefined;
/** "CKR_PIN_INCORRECT" etc.; safe to log (a return code, never data). */
export function ckrName(e: unknown): string {
  const code = pkcs11Code(e);
  if (code === undefined) return 'NATIVE_ERROR';
  names ??= new Map(
    Object.entries(pkcs11js)
      .filter(([k, v]) => k.startsWith('CKR_') && typeof v === 'number')
      .map(([k, v]) => [v as number, k]),
  );
  return names.get(code) ?? `CKR_0x${code.toString(16)}`;
}

/**
 * Codes after which the session set is rebuilt (re-open, re-login, re-find the root key) and the
 * operation retried once: the session, the login or the token went away, or a handle went stale.
 */
const SESSION_LOST = new Set<number>(
  [
    'CKR_SESSION_HANDLE_INVALID',
    'CKR_SESSION_CLOSED',
    'CKR_USER_NOT_LOGGED_IN',
    'CKR_DEVICE_REMOVED',
    'CKR_DEVICE_ERROR',
    'CKR_TOKEN_NOT_PRESENT',
    'CKR_TOKEN_NOT_RECOGNIZED',
    'CKR_CRYPTOKI_NOT_INITIALIZED',
    'CKR_KEY_HANDLE_INVALID',
    'CKR_OBJECT_HANDLE_INVALID',
    'CKR_WRAPPING_KEY_HANDLE_INVALID',
    'CKR_UNWRAPPING_KEY_HANDLE_INVALID',
  ].map((name) => (pkcs11js as unknown as Record<string, number>)[name]),
);

export function isSessionLost(e: unknown): boolean {
  const code = pkcs11Code(e);
  return code !== undefined && SESSION_LOST.has(code);
}
