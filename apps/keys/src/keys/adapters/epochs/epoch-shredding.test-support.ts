/**
 * TEST ONLY: backups the way an operator takes them (pg_dump of the keys database, a copy of the data
 * dir) and restores them into the same database name, with the keys service stopped.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { testServerUrl } from '../../../../../../test/support/pg';

export interface Backup {
  readonly dump: string;
  readonly dataDirCopy: string;
  cleanup(): void;
}

export function takeBackup(databaseUrl: string, dataDir: string): Backup {
  const dir = mkdtempSync(join(tmpdir(), 'ekm-backup-'));
  const dump = join(dir, 'keys.dump');
  execFileSync('pg_dump', ['-Fc', '-f', dump, '-d', databaseUrl], { stdio: 'pipe' });
  const dataDirCopy = join(dir, 'data');
  cpSync(dataDir, dataDirCopy, { recursive: true, preserveTimestamps: true });
  return { dump, dataDirCopy, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Drops and recreates the database, then pg_restore's the dump into it. */
export async function restoreDatabase(name: string, databaseUrl: string, dump: string): Promise<void> {
  const admin = new Client({ connectionString: testServerUrl() });
  await admin.connect();
  try {
    await admin.query(`DROP DATABASE ${name} WITH (FORCE)`);
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  execFileSync('pg_restore', ['--exit-on-error', '-d', databaseUrl, dump], { stdio: 'pipe' });
}

/** Replaces the data dir by the copy (the software root's own backup: key material). */
export function restoreDataDir(dataDir: string, copy: string): void {
  rmSync(dataDir, { recursive: true, force: true });
  cpSync(copy, dataDir, { recursive: true, preserveTimestamps: true });
}
