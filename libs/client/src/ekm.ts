/**
 * `Ekm`: one connection and the typed clients of every service on it, so callers (applications, the
 * CLI, services calling each other) keep one entry point and never reach for the raw client to build one.
 */
import { AuditClient } from './audit.client';
import { CryptoClient } from './crypto.client';
import { EkmClient, type EkmClientOptions } from './ekm-client';
import { KeysClient } from './keys.client';
import { PolicyClient } from './policy.client';
import { RotationClient } from './rotation.client';
import { TenantsClient } from './tenants.client';

/** The SDK facade: `const ekm = await Ekm.connect(); await ekm.crypto.generateDataKey({...}); await ekm.close();` */
export class Ekm {
  /** Key lifecycle (create, rotate, disable, delete, import, ...). */
  readonly keys: KeysClient;
  /** Data plane (data keys, encrypt, decrypt, re-encrypt, MACs). */
  readonly crypto: CryptoClient;
  /** Decisions, policies and principals. */
  readonly policy: PolicyClient;
  /** Rotation schedules, status and re-wrap progress. */
  readonly rotation: RotationClient;
  /** The audit trail: query, verify, usage reports. */
  readonly audit: AuditClient;
  /** The tenant kill switch (seal, unseal, status). */
  readonly tenants: TenantsClient;

  private constructor(
    /** The low-level bus client (raw `call()`, the NATS connection). */
    readonly client: EkmClient,
  ) {
    this.keys = new KeysClient(client);
    this.crypto = new CryptoClient(client);
    this.policy = new PolicyClient(client);
    this.rotation = new RotationClient(client);
    this.audit = new AuditClient(client);
    this.tenants = new TenantsClient(client);
  }

  /**
   * Connects to the bus (`options.servers`, else `EKM_NATS_URL`, else `nats://127.0.0.1:4222`).
   * @throws the NATS connection error when no server is reachable.
   */
  static async connect(options: EkmClientOptions = {}): Promise<Ekm> {
    return new Ekm(await EkmClient.connect(options));
  }

  /** Wraps an existing {@link EkmClient}; closing the facade closes it when it owns its connection. */
  static from(client: EkmClient): Ekm {
    return new Ekm(client);
  }

  /** Drains and closes the connection (when owned). */
  close(): Promise<void> {
    return this.client.close();
  }
}
