/**
 * The client side of a chaos run: a mixed load (CreateKey, RotateKey, GenerateDataKey, Decrypt) over
 * raw NATS, every operation recorded with its request id and outcome:
 * - ok: the service acknowledged it (a `{ok:true}` reply);
 * - error: a typed refusal (`{ok:false,error:{code}}`) or "no responders" (the request reached no one);
 * - unknown: no reply within the caller's deadline (it may or may not have happened).
 * Each call has its own deadline; `late` counts replies that came after it (a hang is a failure).
 */
import { randomUUID } from 'node:crypto';
import { connect, headers, type NatsConnection } from '@nats-io/transport-node';
import { SEAL_HEADER, sealedRequest, serviceSessionSource, SessionSealer, type ActiveSession, type CredentialFile } from '@ekm/auth';
import { loginSessionSource } from '@ekm/client';

export type OpKind = 'create-key' | 'rotate-key' | 'generate-data-key' | 'decrypt';
export type Outcome = 'ok' | 'error' | 'unknown';

export interface OpRecord {
  readonly requestId: string;
  readonly op: OpKind;
  readonly keyId?: string;
  readonly startedAt: number;
  endedAt: number;
  outcome: Outcome;
  code?: string;
  /** ok GenerateDataKey: the blob and the plaintext to check after the run (test data, never logged). */
  dataKey?: { ciphertextBlob: string; plaintext: string; context: Record<string, string> };
  keyVersion?: number;
  /** The typed error arrived after more than the deadline (should never happen). */
  overDeadline?: boolean;
}

/**
 * How the load signs: unsigned (auth off), a service session minted with the shared secret, or a
 * principal's credential logged in over `ekm.v1.policy.login` (keys with EKM_AUTHZ=policy decide on it).
 */
export type ChaosAuth = undefined | string | { readonly credential: CredentialFile };

type Reply<T> = { ok: true; data: T } | { ok: false; error: { code: string; message: string } };

export class ChaosClient {
  private constructor(private readonly nc: NatsConnection, private readonly session: ActiveSession | null, readonly deadlineMs: number) {}

  static async connect(natsUrl: string | readonly string[], auth: ChaosAuth, deadlineMs = 3000): Promise<ChaosClient> {
    // Waits for NATS forever: the client outlives NATS restarts (and, with a cluster, tries every node).
    const nc = await connect({ servers: typeof natsUrl === 'string' ? natsUrl : [...natsUrl], name: 'ekm-chaos', maxReconnectAttempts: -1, reconnectTimeWait: 200 });
    try {
      const session = auth === undefined ? null
        : typeof auth === 'string' ? await serviceSessionSource(new SessionSealer(auth), 'chaos', 60 * 60_000)()
          : await loginSessionSource(nc, auth.credential, 10_000)();
      return new ChaosClient(nc, session, deadlineMs);
    } catch (err) {
      await nc.close();
      throw err;
    }
  }

  /** One attempt (no retries: the history must say what one request did). */
  async call<T>(service: string, op: string, body: unknown, requestId: string = randomUUID(), deadlineMs = this.deadlineMs): Promise<{ outcome: Outcome; data?: T; code?: string }> {
    const subject = `ekm.v1.${service}.${op}`;
    let bytes: Buffer = Buffer.from(JSON.stringify(body));
    const h = headers();
    h.set('Ekm-Request-Id', requestId);
    // With a session, signed and sealed as the SDK does (services refuse secrets in unsealed bodies).
    const sealed = this.session ? sealedRequest(this.session, subject, requestId, bytes) : null;
    if (sealed) {
      for (const [k, v] of Object.entries(sealed.headers)) h.set(k, v);
      bytes = sealed.body;
    }
    try {
      const m = await this.nc.request(subject, bytes, { timeout: deadlineMs, headers: h });
      const r = (sealed ? JSON.parse(sealed.openReply(m.data, m.headers?.has(SEAL_HEADER) ? m.headers.get(SEAL_HEADER) : undefined)) : m.json()) as Reply<T>;
      return r.ok ? { outcome: 'ok', data: r.data } : { outcome: 'error', code: r.error.code };
    } catch (err) {
      const text = `${(err as Error).name} ${(err as Error).message} ${(err as { code?: string }).code ?? ''}`;
      // No responders: nobody subscribed got it, so nothing was done (typed EKM_UNAVAILABLE, as the SDK maps it).
      if (/no responders|503/i.test(text)) return { outcome: 'error', code: 'EKM_UNAVAILABLE' };
      if (/timeout/i.test(text)) return { outcome: 'unknown', code: 'EKM_TIMEOUT' };
      // Disconnected / closed while waiting: the request may have been delivered.
      return { outcome: 'unknown', code: 'EKM_UNAVAILABLE' };
    }
  }

  async close(): Promise<void> {
    await this.nc.close();
  }
}

export interface LoadOptions {
  readonly ops: number;
  readonly concurrency: number;
  /** Stop issuing after this long even if `ops` were not all issued. */
  readonly maxMs: number;
  /** Stop issuing once this returns true (the scenario healed its fault and a tail ran). */
  readonly done?: () => boolean;
  /** Pause of each worker between operations (ms), so the load spans the fault. Default 20. */
  readonly pauseMs?: number;
  readonly tenant?: string;
  readonly run?: string;
}

/** Keys the load works on, and every operation with its outcome. */
export class History {
  readonly records: OpRecord[] = [];
  readonly keys: string[] = [];

  constructor(readonly run: string = Date.now().toString(36)) {}

  byOutcome(outcome: Outcome): OpRecord[] {
    return this.records.filter((r) => r.outcome === outcome);
  }

  summary(): Record<string, number> {
    const s: Record<string, number> = {};
    for (const r of this.records) {
      const k = `${r.op}:${r.outcome}${r.code ? `:${r.code}` : ''}`;
      s[k] = (s[k] ?? 0) + 1;
    }
    return s;
  }
}

const CONTEXT = (keyId: string): Record<string, string> => ({ tenant: 'chaos', collection: keyId.slice(0, 8) });

/** Creates `n` keys for the load (retrying until the stack answers). */
export async function seedKeys(client: ChaosClient, history: History, n: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    for (let attempt = 1; ; attempt++) {
      const rec = await record(client, history, 'create-key', undefined, { tenant: 'chaos', description: `chaos ${history.run}` });
      if (rec.outcome === 'ok') break;
      if (attempt >= 20) throw new Error(`could not create a seed key: ${rec.code}`);
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}

/** Runs the mixed load; resolves when `ops` are done or `maxMs` passed. */
export async function runLoad(client: ChaosClient, history: History, opts: LoadOptions): Promise<void> {
  const end = Date.now() + opts.maxMs;
  let issued = 0;
  const worker = async (): Promise<void> => {
    while (issued < opts.ops && Date.now() < end && !(opts.done?.() ?? false)) {
      issued++;
      await new Promise((r) => setTimeout(r, opts.pauseMs ?? 20));
      const roll = Math.random();
      const keyId = history.keys[Math.floor(Math.random() * history.keys.length)];
      const blobs = history.records.filter((r) => r.dataKey);
      if (roll < 0.08) await record(client, history, 'create-key', undefined, { tenant: opts.tenant ?? 'chaos', description: `chaos ${history.run}` });
      else if (roll < 0.2) await record(client, history, 'rotate-key', keyId, { keyId });
      else if (roll < 0.8 || blobs.length === 0) await record(client, history, 'generate-data-key', keyId, { keyId, encryptionContext: CONTEXT(keyId) });
      else {
        const b = blobs[Math.floor(Math.random() * blobs.length)];
        await record(client, history, 'decrypt', b.keyId, { ciphertextBlob: b.dataKey!.ciphertextBlob, encryptionContext: b.dataKey!.context });
      }
      // A refused call returns at once: back off a little so the ops span the fault.
      const last = history.records[history.records.length - 1];
      if (last.outcome !== 'ok') await new Promise((r) => setTimeout(r, 100));
    }
  };
  await Promise.all(Array.from({ length: opts.concurrency }, worker));
}

async function record(client: ChaosClient, history: History, op: OpKind, keyId: string | undefined, body: Record<string, unknown>): Promise<OpRecord> {
  const rec: OpRecord = { requestId: `chaos-${history.run}-${randomUUID()}`, op, ...(keyId ? { keyId } : {}), startedAt: Date.now(), endedAt: 0, outcome: 'unknown' };
  history.records.push(rec);
  const r = await client.call<{ keyId?: string; keyVersion?: number; primaryVersion?: number; ciphertextBlob?: string; plaintext?: string }>('keys', op, body, rec.requestId);
  rec.endedAt = Date.now();
  rec.outcome = r.outcome;
  if (r.code) rec.code = r.code;
  // The deadline plus scheduling slack on a 2-core machine.
  if (rec.endedAt - rec.startedAt > client.deadlineMs + 1500) rec.overDeadline = true;
  if (r.outcome === 'ok' && r.data) {
    if (op === 'create-key' && r.data.keyId) {
      (rec as { keyId?: string }).keyId = r.data.keyId;
      history.keys.push(r.data.keyId);
    }
    if (op === 'rotate-key' && typeof r.data.primaryVersion === 'number') rec.keyVersion = r.data.primaryVersion;
    if (op === 'generate-data-key' && r.data.ciphertextBlob && r.data.plaintext && keyId) {
      rec.keyVersion = r.data.keyVersion;
      rec.dataKey = { ciphertextBlob: r.data.ciphertextBlob, plaintext: r.data.plaintext, context: CONTEXT(keyId) };
    }
  }
  return rec;
}
