/** Shared setup of the audit e2e specs: an in-process audit app and trail helpers. */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jetstreamManager, type JsMsg } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import type { Client } from 'pg';
import { loadConfig } from '@ekm/config';
import { startServiceApp, type ServiceApp } from '@ekm/service-kit';
import { createLogger } from '@ekm/telemetry';
import { AuditModule } from '../../apps/audit/src/audit.module';
import { TRAIL_RUNTIME, type TrailRuntime } from '../../apps/audit/src/trail/adapters/trail-runtime';
import { urlFor } from '../support/pg';
import { waitFor as sharedWaitFor } from '../support/wait-for';

export const AUDIT_ROOT_SECRET = 'audit-e2e-root-secret-0123';

export function auditEnv(natsUrl: string, db: { name: string; url: string }, env: Record<string, string> = {}): Record<string, string> {
  return {
    EKM_NATS_URL: natsUrl,
    EKM_DATABASE_ADMIN_URL: db.url,
    EKM_DATABASE_URL: urlFor(db.name, 'ekm_audit'),
    EKM_HTTP_PORT: '0',
    EKM_DATA_DIR: mkdtempSync(join(tmpdir(), 'ekm-audit-e2e-')),
    EKM_ROOT_SECRET: AUDIT_ROOT_SECRET,
    EKM_AUDIT_SOURCES: 'keys',
    EKM_AUDIT_CHECKPOINT_EVERY: '10',
    EKM_AUDIT_CHECKPOINT_INTERVAL_MS: '500',
    EKM_LOG_LEVEL: 'warn',
    EKM_AUTH: 'disabled',
    ...env,
  };
}

export async function startAuditApp(env: Record<string, string>): Promise<{ svc: ServiceApp; runtime: TrailRuntime }> {
  const config = loadConfig('audit', env);
  const svc = await startServiceApp({ config, module: AuditModule, logger: createLogger('audit', { level: 'silent' }) });
  return { svc, runtime: svc.app.get<TrailRuntime>(TRAIL_RUNTIME) };
}

/** Polls `fn` until it holds; the deadline scales with the load (test/support/wait-for.ts). */
export function waitFor<T>(what: string, fn: () => Promise<T | undefined | false>, timeoutMs = 20_000): Promise<T> {
  return sharedWaitFor(fn, { what, timeoutMs, intervalMs: 100 });
}

/** Source event ids of ekm_<service>.events, and of the trail (with multiplicity). */
export async function sourceIds(db: Client, service = 'keys'): Promise<string[]> {
  const { rows } = await db.query<{ id: string }>(`SELECT event_id::text AS id FROM ekm_${service}.events ORDER BY global_position`);
  return rows.map((r) => r.id);
}

export async function trailIds(db: Client, service = 'keys'): Promise<string[]> {
  const { rows } = await db.query<{ id: string }>(`SELECT source_event_id AS id FROM ekm_audit.trail WHERE source_service = $1 ORDER BY leaf_index`, [service]);
  return rows.map((r) => r.id);
}

/** Waits until every source event is in the trail. */
export async function waitForTrail(db: Client, service = 'keys', timeoutMs = 20_000): Promise<void> {
  await waitFor('trail to hold every source event', async () => {
    const [src, trail] = await Promise.all([sourceIds(db, service), trailIds(db, service)]);
    const t = new Set(trail);
    return src.every((id) => t.has(id));
  }, timeoutMs);
}

/** Every message of EKM_AUDIT (subject, msg id, raw body). */
export async function auditMessages(nc: NatsConnection): Promise<{ subject: string; msgId: string; body: string; raw: Uint8Array }[]> {
  const jsm = await jetstreamManager(nc);
  const info = await jsm.streams.info('EKM_AUDIT');
  const out: { subject: string; msgId: string; body: string; raw: Uint8Array }[] = [];
  for (let seq = info.state.first_seq; seq <= info.state.last_seq; seq++) {
    const m = await jsm.streams.getMessage('EKM_AUDIT', { seq }).catch(() => null);
    if (!m) continue;
    out.push({ subject: m.subject, msgId: m.header?.get('Nats-Msg-Id') ?? '', body: m.string(), raw: m.data });
  }
  return out;
}

export type { JsMsg };
