/**
 * The audit role reads the source services' `events` tables directly to fill gaps (a message lost from
 * JetStream, or never relayed): `GRANT USAGE ON SCHEMA ekm_<svc>` + `GRANT SELECT ON ekm_<svc>.events`,
 * nothing else (not key_material, not projections). Run with the admin URL; a source whose schema
 * does not exist yet is reported and granted on a later call. Operators without an admin URL at start
 * run the same two statements by hand (docs/siem.md, "Gap repair").
 */
import { Client } from 'pg';
import { quoteIdent, serviceRole, serviceSchema } from '@ekm/event-store';

export interface GrantResult {
  readonly granted: readonly string[];
  readonly missing: readonly string[];
}

export async function grantSourceReads(adminUrl: string, sources: readonly string[], auditService = 'audit'): Promise<GrantResult> {
  const c = new Client({ connectionString: adminUrl });
  await c.connect();
  const granted: string[] = [];
  const missing: string[] = [];
  try {
    for (const svc of sources) {
      const schema = serviceSchema(svc);
      const { rowCount } = await c.query(`SELECT 1 FROM information_schema.tables WHERE table_schema = $1 AND table_name = 'events'`, [schema]);
      if (rowCount === 0) {
        missing.push(svc);
        continue;
      }
      await c.query(`GRANT USAGE ON SCHEMA ${quoteIdent(schema)} TO ${quoteIdent(serviceRole(auditService))}`);
      await c.query(`GRANT SELECT ON ${quoteIdent(schema)}.events TO ${quoteIdent(serviceRole(auditService))}`);
      granted.push(svc);
    }
  } finally {
    await c.end();
  }
  return { granted, missing };
}
