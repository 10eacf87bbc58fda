/**
 * Output for people (tables, plain lines); the machine formats (`--output json|yaml`) live in
 * output-format.ts, table layout in table.ts. Formatting is pure: tests check strings.
 */
import type { KeyInfo, KeyVersionInfo, StringMap } from '@ekm/client';
import { renderProperties, renderTable } from './table';
import { PLAIN_VIEW, type TerminalView } from './terminal';

export { formatError, jsonDocument } from './output-format';

/** Where the CLI writes; tests pass buffers. */
export interface CliIo {
  readonly stdout: (chunk: string | Buffer) => void;
  readonly stderr: (chunk: string) => void;
}

/** `k=v, k2=v2` (sorted) or `-` for an empty map. */
export function formatMap(map: StringMap | undefined): string {
  const entries = Object.entries(map ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return entries.length === 0 ? '-' : entries.map(([k, v]) => `${k}=${v}`).join(', ');
}

const orDash = (v: string | number | null | undefined): string => (v === null || v === undefined || v === '' ? '-' : String(v));

/** Rotation as a phrase: `every 90 days (next 2026-01-01T00:00:00.000Z)` or `off`. */
export function formatRotation(rotation: KeyInfo['rotation']): string {
  return rotation.enabled ? `every ${rotation.periodDays} days (next ${rotation.nextRotationAt})` : 'off';
}

/** Two-column property table of one key (`ekm key describe` and every lifecycle command). */
export function keyTable(k: KeyInfo, view: TerminalView = PLAIN_VIEW): string {
  const rows: [string, string][] = [
    ['Key id', k.keyId], ['Tenant', k.tenant], ['Status', k.status], ['Spec', `${k.spec} (${k.usage})`], ['Origin', k.origin],
    ['Description', orDash(k.description)], ['Primary version', orDash(k.primaryVersion)], ['Versions', String(k.versions.length)],
    ['Aliases', k.aliases.length === 0 ? '-' : k.aliases.join(', ')], ['Tags', formatMap(k.tags)], ['Required context', formatMap(k.requiredContext)],
    ['Rotation', formatRotation(k.rotation)], ['Last rotated', orDash(k.lastRotatedAt)], ['Deletion date', orDash(k.deletionDate)],
    ['Revoked at', orDash(k.revokedAt)], ['Destroyed at', orDash(k.destroyedAt)], ['Created', k.createdAt],
  ];
  return `${renderProperties(rows, view)}\n`;
}

/** One row per key (`ekm key list`). */
export function keyListTable(keys: readonly KeyInfo[], view: TerminalView = PLAIN_VIEW): string {
  if (keys.length === 0) return 'no keys\n';
  return `${renderTable(['Key id', 'Tenant', 'Status', 'Spec', 'Primary', 'Aliases', 'Description'],
    keys.map((k) => [k.keyId, k.tenant, k.status, k.spec, orDash(k.primaryVersion), k.aliases.join(', ') || '-', orDash(k.description)]), view)}\n`;
}

/** One row per version (`ekm key versions`). */
export function versionsTable(versions: readonly KeyVersionInfo[], view: TerminalView = PLAIN_VIEW): string {
  return `${renderTable(['Version', 'Status', 'Primary', 'Origin', 'Fingerprint', 'Created'],
    versions.map((v) => [String(v.version), v.status, v.isPrimary ? 'yes' : '', v.origin, v.fingerprint, v.createdAt]), view)}\n`;
}

/** `name: value` lines, aligned, for small results (data keys, ciphertexts, MACs). */
export function fieldLines(fields: Readonly<Record<string, string | number | boolean | null>>): string {
  const width = Math.max(...Object.keys(fields).map((k) => k.length));
  return Object.entries(fields).map(([k, v]) => `${`${k}:`.padEnd(width + 2)}${orDash(v === null ? null : String(v))}\n`).join('');
}
