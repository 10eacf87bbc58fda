/**
 * The signed key-usage report: which keys and versions protected which data assets (encryption
 * context fields tenant / collection / asset) over a window, anchored to the trail head it was
 * computed at, signed with the trail's Ed25519 key (verify: Ed25519 over `payload`, UTF-8).
 */
import { canonicalJson, type Json } from '../domain/canonical-json';

export interface UsageReportRow {
  readonly keyId: string;
  readonly keyVersion: number | null;
  readonly tenant: string | null;
  readonly collection: string | null;
  readonly asset: string | null;
  readonly operations: number;
  readonly firstAt: string;
  readonly lastAt: string;
}

export interface UsageReport {
  readonly v: 1;
  readonly from: string;
  readonly to: string;
  readonly filter: { readonly tenant?: string; readonly keyId?: string };
  readonly generatedAt: string;
  readonly trail: { readonly treeSize: number; readonly root: string };
  readonly rows: readonly UsageReportRow[];
}

export interface SignedUsageReport {
  readonly report: UsageReport;
  /** canonical JSON of `report`: the signed bytes. */
  readonly payload: string;
  readonly signature: string;
  readonly publicKey: string;
  readonly keyId: string;
  readonly algorithm: 'Ed25519';
}

export function signReport(report: UsageReport, signer: { sign(p: string): Buffer; publicKeyRaw: Buffer; keyId: string }): SignedUsageReport {
  const payload = canonicalJson(report as unknown as Json);
  return { report, payload, signature: signer.sign(payload).toString('base64'), publicKey: signer.publicKeyRaw.toString('base64'), keyId: signer.keyId, algorithm: 'Ed25519' };
}
