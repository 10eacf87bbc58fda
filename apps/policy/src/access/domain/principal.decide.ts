/**
 * The principal decider and evolve: no I/O, no clock (time is `cmd.meta.now`), no randomness (ids and
 * verifiers arrive in the command; the application layer generates the credential through @ekm/auth).
 */
import {
  assertNever, isCredentialValid, type CredentialState, type ExistingPrincipal, type PrincipalCommand, type PrincipalDecision,
  type PrincipalEvent, type PrincipalRejection, type PrincipalState,
} from './principal.types';

const reject = (rejection: PrincipalRejection): PrincipalDecision => ({ ok: false, rejection });
const accept = (...events: PrincipalEvent[]): PrincipalDecision => ({ ok: true, events });

type Cmd<T extends PrincipalCommand['type']> = Extract<PrincipalCommand, { type: T }>;

function active(state: PrincipalState, principalId: string): ExistingPrincipal | PrincipalRejection {
  if (state.status === 'Absent') return { code: 'PRINCIPAL_NOT_FOUND', principalId };
  if (state.status === 'Revoked') return { code: 'PRINCIPAL_REVOKED', principalId };
  return state;
}

const isRejection = (v: ExistingPrincipal | PrincipalRejection): v is PrincipalRejection => 'code' in v;

const createPrincipal = (cmd: Cmd<'CreatePrincipal'>, s: PrincipalState): PrincipalDecision => {
  const d = cmd.data;
  if (s.status !== 'Absent') return reject({ code: 'PRINCIPAL_EXISTS', principalId: d.principalId });
  const meta = cmd.meta;
  return accept(
    { type: 'PrincipalCreated', data: { principalId: d.principalId, tenant: d.tenant, roles: [...new Set(d.roles)].sort(), kind: d.kind, name: d.name, createdAt: meta.now }, meta },
    { type: 'CredentialIssued', data: { principalId: d.principalId, credentialId: d.credential.credentialId, publicKey: d.credential.publicKey, issuedAt: meta.now }, meta },
  );
};

/**
 * Rotation keeps every currently valid credential usable until `now + graceSeconds` (old and new both
 * valid meanwhile); the new one has no end. A grace of 0 ends the old ones at once.
 */
const rotateCredential = (cmd: Cmd<'RotateCredential'>, s: PrincipalState): PrincipalDecision => {
  const d = cmd.data;
  const p = active(s, d.principalId);
  if (isRejection(p)) return reject(p);
  if (p.credentials.has(d.credential.credentialId)) return reject({ code: 'CREDENTIAL_EXISTS', principalId: d.principalId, credentialId: d.credential.credentialId });
  const validUntil = new Date(Date.parse(cmd.meta.now) + d.graceSeconds * 1000).toISOString();
  const current = [...p.credentials.values()].filter((c) => isCredentialValid(c, cmd.meta.now) && c.validUntil === null);
  const previous = current.length > 0 ? current[current.length - 1].credentialId : '';
  return accept({
    type: 'CredentialRotated',
    data: { principalId: d.principalId, credentialId: d.credential.credentialId, publicKey: d.credential.publicKey, previousCredentialId: previous, previousValidUntil: validUntil, issuedAt: cmd.meta.now },
    meta: cmd.meta,
  });
};

const revokeCredential = (cmd: Cmd<'RevokeCredential'>, s: PrincipalState): PrincipalDecision => {
  const d = cmd.data;
  const p = active(s, d.principalId);
  if (isRejection(p)) return reject(p);
  const c = p.credentials.get(d.credentialId);
  if (c === undefined) return reject({ code: 'CREDENTIAL_NOT_FOUND', principalId: d.principalId, credentialId: d.credentialId });
  if (c.status === 'Revoked') return reject({ code: 'CREDENTIAL_REVOKED', principalId: d.principalId, credentialId: d.credentialId });
  return accept({ type: 'CredentialRevoked', data: { principalId: d.principalId, credentialId: d.credentialId, reason: d.reason }, meta: cmd.meta });
};

const revokePrincipal = (cmd: Cmd<'RevokePrincipal'>, s: PrincipalState): PrincipalDecision => {
  const d = cmd.data;
  const p = active(s, d.principalId);
  if (isRejection(p)) return reject(p);
  return accept({ type: 'PrincipalRevoked', data: { principalId: d.principalId, reason: d.reason, revokedAt: cmd.meta.now }, meta: cmd.meta });
};

export function decidePrincipal(cmd: PrincipalCommand, state: PrincipalState): PrincipalDecision {
  if (state.status !== 'Absent' && state.principalId !== cmd.data.principalId)
    throw new Error(`programmer error: ${cmd.type} for ${cmd.data.principalId} decided on the state of ${state.principalId}`);
  switch (cmd.type) {
    case 'CreatePrincipal': return createPrincipal(cmd, state);
    case 'RotateCredential': return rotateCredential(cmd, state);
    case 'RevokeCredential': return revokeCredential(cmd, state);
    case 'RevokePrincipal': return revokePrincipal(cmd, state);
    default: return assertNever(cmd);
  }
}

const withCredential = (p: ExistingPrincipal, c: CredentialState): ExistingPrincipal => ({ ...p, credentials: new Map([...p.credentials, [c.credentialId, c]]) });

/** Total: an event is a fact. An event for an absent principal other than PrincipalCreated is ignored (cannot happen in a valid log). */
export function evolvePrincipal(state: PrincipalState, event: PrincipalEvent): PrincipalState {
  if (event.type === 'PrincipalCreated') {
    const d = event.data;
    return { status: 'Active', principalId: d.principalId, tenant: d.tenant, roles: d.roles, kind: d.kind, name: d.name, createdAt: d.createdAt, credentials: new Map() };
  }
  if (state.status === 'Absent') return state;
  switch (event.type) {
    case 'CredentialIssued':
      return withCredential(state, { credentialId: event.data.credentialId, publicKey: event.data.publicKey, issuedAt: event.data.issuedAt, status: 'Active', validUntil: null });
    case 'CredentialRotated': {
      const d = event.data;
      const credentials = new Map<string, CredentialState>();
      for (const [id, c] of state.credentials) {
        // Every credential without an end date gets the grace end; ones already ending keep the earlier end.
        const end = c.validUntil === null || Date.parse(c.validUntil) > Date.parse(d.previousValidUntil) ? d.previousValidUntil : c.validUntil;
        credentials.set(id, c.status === 'Active' ? { ...c, validUntil: end } : c);
      }
      credentials.set(d.credentialId, { credentialId: d.credentialId, publicKey: d.publicKey, issuedAt: d.issuedAt, status: 'Active', validUntil: null });
      return { ...state, credentials };
    }
    case 'CredentialRevoked': {
      const c = state.credentials.get(event.data.credentialId);
      return c === undefined ? state : withCredential(state, { ...c, status: 'Revoked' });
    }
    case 'PrincipalRevoked':
      return { ...state, status: 'Revoked' };
    default:
      return assertNever(event);
  }
}

export const initialPrincipal: PrincipalState = { status: 'Absent' };
export const foldPrincipal = (events: readonly PrincipalEvent[], from: PrincipalState = initialPrincipal): PrincipalState => events.reduce(evolvePrincipal, from);
