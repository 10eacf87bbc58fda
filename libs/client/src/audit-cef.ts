/**
 * ArcSight CEF rendering of an audit entry (an `EKM_AUDIT` message body or a query result), for syslog-based SIEMs:
 * `CEF:0|EKM|ekm-audit|1|<category>:<action>|<action>|<severity>|<extension>`.
 * Header fields escape `\` and `|`; extension values escape `\`, `=` and line breaks (CEF spec rev 25).
 */
import type { AuditEntry } from './audit.client';

const escHeader = (s: string): string => s.replace(/\\/g, '\\\\').replace(/\|/g, '\\|').replace(/[\r\n]/g, ' ');
const escValue = (s: string): string => s.replace(/\\/g, '\\\\').replace(/=/g, '\\=').replace(/\r?\n|\r/g, '\\n');
// Extension keys must be single tokens; context keys are caller-chosen, so keep only safe characters.
const safeKey = (s: string): string => s.replace(/[^A-Za-z0-9_.-]/g, '_');

const SEVERITY: Readonly<Record<AuditEntry['outcome'], number>> = { success: 3, denied: 7, failure: 6 };

/** One audit entry as an ArcSight CEF line (docs/siem.md), for SIEMs that ingest CEF over syslog. Pure. */
export function toCef(e: AuditEntry): string {
  const ext: [string, string | number | undefined][] = [
    ['rt', e.timeMs],
    ['externalId', e.leafIndex],
    ['act', e.action],
    ['outcome', e.outcome],
    ['suser', e.actor.principal],
    ['reason', e.reason],
    ['cs1Label', 'tenant'], ['cs1', e.tenant],
    ['cs2Label', 'keyId'], ['cs2', e.keyId],
    ['cn1Label', 'keyVersion'], ['cn1', e.keyVersion],
    ['cs3Label', 'errorCode'], ['cs3', e.errorCode],
    ['cs4Label', 'sourceEventId'], ['cs4', e.source.eventId],
    ['cs5Label', 'sourceService'], ['cs5', e.source.service],
    ['cs6Label', 'requestId'], ['cs6', e.request?.id],
  ];
  for (const [k, v] of Object.entries(e.encryptionContext ?? {})) ext.push([`ekmCtx.${safeKey(k)}`, v]);
  const pairs = ext.filter(([k, v]) => v !== undefined && !(k.endsWith('Label') && ext.find(([n]) => n === k.slice(0, -5))?.[1] === undefined));
  const header = ['CEF:0', 'EKM', 'ekm-audit', '1', `${e.category}:${e.action}`, e.action, String(SEVERITY[e.outcome])].map(escHeader).join('|');
  return `${header}|${pairs.map(([k, v]) => `${k}=${escValue(String(v))}`).join(' ')}`;
}
