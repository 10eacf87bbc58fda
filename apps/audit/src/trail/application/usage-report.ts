/**
 * The signed key-usage report: which keys and versions protected which data assets (encryption
 * context fields tenant / collection / asset) over a window, anchored to the trail head it was
 * computed at, signed with the trail's Ed25519 key (verify: Ed25519 over `payload`, UTF-8).
 */
import type { SignedUsageReportReply, UsageReportReply, UsageReportRowReply } from '@ekm/contracts';
import { canonicalJson, type Json } from '../domain/canonical-json';

// The wire types (`ekm.v1.audit.report`): the report is built and signed as its reply schema says.
export type UsageReportRow = UsageReportRowReply;
export type UsageReport = UsageReportReply;
export type SignedUsageReport = SignedUsageReportReply;

export function signReport(report: UsageReport, signer: { sign(p: string): Buffer; publicKeyRaw: Buffer; keyId: string }): SignedUsageReport {
  const payload = canonicalJson(report as unknown as Json);
  return { report, payload, signature: signer.sign(payload).toString('base64'), publicKey: signer.publicKeyRaw.toString('base64'), keyId: signer.keyId, algorithm: 'Ed25519' };
}
