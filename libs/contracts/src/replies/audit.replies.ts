/**
 * Reply bodies (the `data` of `{ok:true,data}`) of the audit service's subjects, as zod schemas, and
 * the category / outcome vocabularies its entries and query filters share. The service's handlers are
 * typed with the inferred types, and the SDK's audit types are these (libs/client), so the three agree
 * by construction. Nothing here carries key material: entries are built field by field from
 * material-free records, receipts carry one-way commitments, and signatures are over public payloads.
 */
import { z } from 'zod';
import { ServiceStatusReply } from './status.replies';

/** `quarantine`: a record the trail could not store as is (apps/audit application/quarantine.ts). */
export const AUDIT_CATEGORIES = ['key_usage', 'key_lifecycle', 'authentication', 'policy', 'rotation', 'other', 'quarantine'] as const;
export const AUDIT_OUTCOMES = ['success', 'denied', 'failure'] as const;

const isoTime = z.string().min(1);
const count = z.number().int().nonnegative();
const leafIndex = z.number().int().positive();
const hex = z.string().regex(/^[0-9a-f]*$/, 'must be lowercase hex');
const base64 = z.string().regex(/^[A-Za-z0-9+/]*={0,2}$/, 'must be base64');
const text = z.string().min(1);

/** One normalized trail entry (docs/siem.md has the full schema); optional members are absent, not null. */
export const AuditEntryReply = z.object({
  schema: z.literal('ekm.audit.v1'),
  leafIndex,
  time: isoTime,
  timeMs: z.number().int().nonnegative(),
  category: z.enum(AUDIT_CATEGORIES),
  action: z.string(),
  outcome: z.enum(AUDIT_OUTCOMES),
  reason: z.string().optional(),
  errorCode: z.string().optional(),
  /** `via`: the edge the request came through (`kms-api`), absent for bus callers. */
  actor: z.object({ principal: z.string(), via: z.string().optional() }).strict().readonly(),
  resource: z.object({ type: z.string(), id: z.string() }).strict().readonly().optional(),
  tenant: z.string().optional(),
  keyId: z.string().optional(),
  keyVersion: z.number().int().optional(),
  encryptionContext: z.record(z.string(), z.string()).readonly().optional(),
  request: z.object({ id: z.string().optional(), traceId: z.string().optional(), items: z.number().int().optional() }).strict().readonly().optional(),
  /**
   * Lifecycle, refusal and authentication events: the source event's data as plain JSON (already
   * material-free by the source's rules). Open on purpose: its shape is each source event's, and a
   * recursive JSON schema adds no check to a body that arrived as JSON.
   */
  details: z.unknown().optional(),
  /** Quarantined entries only: the digest of the record that could not be stored, and why. */
  quarantine: z.object({ sha256: z.string(), reason: z.string() }).strict().readonly().optional(),
  source: z.object({
    service: z.string(),
    eventId: z.string(),
    eventType: z.string(),
    streamId: z.string(),
    /** Absent on a quarantined entry whose source position was not a storable integer. */
    streamPosition: z.number().int().optional(),
    globalPosition: z.string(),
    /** Records of a batch event only: the record's index in the event. */
    item: z.number().int().nonnegative().optional(),
  }).strict().readonly(),
  /** Hex chain hash h_i of the entry. */
  hash: hex,
}).strict().readonly();
export type AuditEntryReply = z.infer<typeof AuditEntryReply>;

/** `ekm.v1.audit.query`: one page of entries; pass `nextCursor` as `cursor` for the next (`null` = last page). */
export const AuditPageReply = z.object({
  entries: z.array(AuditEntryReply).readonly(),
  nextCursor: leafIndex.nullable(),
}).strict().readonly();
export type AuditPageReply = z.infer<typeof AuditPageReply>;

/** `ekm.v1.audit.verify`: the chain walk, where its trust came from, and the trail's own health. */
export const AuditVerifyReply = z.object({
  ok: z.boolean(),
  /** Entries read. */
  entries: count,
  /** The first entry that fails; null when `ok`. */
  firstBadIndex: count.nullable(),
  reason: z.string(),
  /** Valid checkpoints seen and the largest tree size they cover. */
  checkpoints: count,
  signedThrough: count,
  /**
   * Checkpoints read from outside Postgres: published on EKM_AUDIT (and in the witness file), the
   * largest tree size they cover, and messages on the checkpoint subject that were not ours (ignored).
   */
  published: z.object({ checkpoints: count, signedThrough: count, rejected: count, witness: count }).strict().readonly(),
  /** Trail entries that are quarantined stand-ins for records the trail could not store as is. */
  quarantined: count,
  /** Null while the audit service's signer trusts the trail head; otherwise why it stopped signing. */
  signerDistrust: z.string().nullable(),
}).strict().readonly();
export type AuditVerifyReply = z.infer<typeof AuditVerifyReply>;

/** What an Ed25519 signature by the audit trail's key over `payload` (UTF-8) looks like on the wire. */
const signed = {
  /** Canonical JSON of the signed object: the signed bytes. */
  payload: z.string().min(1),
  signature: base64,
  /** The signer's raw Ed25519 public key (base64). Trust it only if it matches the audit key you hold. */
  publicKey: base64,
  /** First 16 hex characters of SHA-256 of the raw public key. */
  keyId: text,
  algorithm: z.literal('Ed25519'),
};

/** One row of a usage report: a key version's operations on one data asset, with the first and last time. */
export const UsageReportRowReply = z.object({
  keyId: z.string(),
  keyVersion: z.number().int().nullable(),
  tenant: z.string().nullable(),
  collection: z.string().nullable(),
  asset: z.string().nullable(),
  operations: count,
  firstAt: isoTime,
  lastAt: isoTime,
}).strict().readonly();
export type UsageReportRowReply = z.infer<typeof UsageReportRowReply>;

/** The report over [from, to), anchored to the trail head it was computed at. */
export const UsageReportReply = z.object({
  v: z.literal(1),
  from: isoTime,
  to: isoTime,
  /** The tenant (forced for a tenant principal) and key the rows were filtered by. */
  filter: z.object({ tenant: z.string().optional(), keyId: z.string().optional() }).strict().readonly(),
  generatedAt: isoTime,
  /** `root`: hex chain hash of the head entry (32 zero bytes for an empty trail). */
  trail: z.object({ treeSize: count, root: hex }).strict().readonly(),
  rows: z.array(UsageReportRowReply).readonly(),
}).strict().readonly();
export type UsageReportReply = z.infer<typeof UsageReportReply>;

/** `ekm.v1.audit.report`: the usage report and its signature over `payload` (canonical JSON of `report`). */
export const SignedUsageReportReply = z.object({ report: UsageReportReply, ...signed }).strict().readonly();
export type SignedUsageReportReply = z.infer<typeof SignedUsageReportReply>;

const trailRef = { trailIndex: leafIndex, entryHash: hex };

/** What the trail says about a destroyed key: versions with creation-time commitments, the destroy, and the epoch roll. */
export const DestructionReceiptReply = z.object({
  v: z.literal(1),
  type: z.literal('ekm.destruction-receipt'),
  keyId: text,
  tenant: z.string().nullable(),
  /** `commitment`: hex of the first 8 bytes of SHA-256("ekm-key-fingerprint/v1" || material), recorded when the version was created. */
  versions: z.array(z.object({ version: z.number().int().positive(), commitment: z.string(), createdTrailIndex: leafIndex }).strict().readonly()).readonly(),
  commitmentScheme: z.literal('ekm-fingerprint/v1'),
  destroyed: z.object({ at: isoTime, ...trailRef }).strict().readonly(),
  /** The roll that destroyed the root-of-trust epoch keys the material was wrapped under. */
  epoch: z.object({ destroyedEpochs: z.array(z.string()).readonly(), newEpoch: z.string(), at: isoTime, ...trailRef }).strict().readonly(),
}).strict().readonly();
export type DestructionReceiptReply = z.infer<typeof DestructionReceiptReply>;

/** `ekm.v1.audit.destruction-receipt`: the receipt and its signature over `payload` (canonical JSON of `receipt`). */
export const SignedDestructionReceiptReply = z.object({ receipt: DestructionReceiptReply, ...signed }).strict().readonly();
export type SignedDestructionReceiptReply = z.infer<typeof SignedDestructionReceiptReply>;

/** One source's lag behind the trail (apps/audit trail-lag.ts): committed records not yet appended (at most a cap; `capped` when more). */
const SourceLagReply = z.object({
  service: z.string().min(1),
  unappended: z.number().int().nonnegative(),
  capped: z.boolean(),
  oldestAgeMs: z.number().nonnegative().nullable(),
  error: z.string().optional(),
}).strict().readonly();

/** The trail's health as `ekm health` shows it (apps/audit trail-health.ts), or why it could not be read. */
export const TrailHealthReply = z.union([
  z.object({
    head: z.number().int().nonnegative(),
    quarantined: z.number().int().nonnegative(),
    unappended: z.number().int().nonnegative(),
    oldestUnappendedAgeMs: z.number().nonnegative().nullable(),
    sources: z.array(SourceLagReply).readonly(),
    signing: z.object({ trusted: z.boolean(), through: z.number().int().nonnegative().nullable(), reason: z.string().nullable() }).strict().readonly(),
  }).strict().readonly(),
  z.object({ error: z.string() }).strict().readonly(),
]);
export type TrailHealthReply = z.infer<typeof TrailHealthReply>;

/** `ekm.v1.audit.status`: the common service status plus the trail's health. */
export const AuditStatusReply = ServiceStatusReply.unwrap().extend({ trail: TrailHealthReply }).strict().readonly();
export type AuditStatusReply = z.infer<typeof AuditStatusReply>;
