/**
 * Lifecycle use cases that need more than one command: fresh material from the root of trust
 * (CreateKey, RotateKey) and BYOK (GetParametersForImport, ImportKeyMaterial). Material exists in
 * memory only between the root call and the append; it is disposed in `finally`.
 */
import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { generateImportWrappingKeyPair, keyFingerprint, unwrapImportedMaterial, type KeyMaterial } from '@ekm/crypto';
import {
  asKeyId, decide, foldKeyEvents, type KeyLifecycleLimits, type KeyState, type KeyOrigin, type KeySpec, type KeyUsage, type StringMap,
  type WrappingAlgorithm, type WrappingKeySpec,
} from '../domain';
import { EVENT_STORE, type EventStore } from '@ekm/event-store';
import { PgImportTokenStore } from '../adapters/postgres/import-token.store';
import { commandMeta, deterministicId, type CallContext } from './call-context';
import { HandleKeyCommand, KEY_LIMITS } from './handle-key-command';
import { TENANT_ROOT_KEYRING, type TenantRootKeyring } from './tenant-roots/tenant-root-keyring';
import type { WrappedKek } from './epochs/epoch.ports';
import { keyStreamId, toKeyEvent } from './key-stream';
import { ID_DERIVATION_KEY, KEY_COMMAND_HANDLER, ROOT_OF_TRUST, type CommandOutcome, type RootOfTrust } from './ports';

export interface CreateKeyInput {
  readonly tenant: string; readonly spec: KeySpec; readonly usage: KeyUsage; readonly origin: KeyOrigin;
  readonly description?: string; readonly tags?: StringMap; readonly requiredContext?: StringMap;
}

export interface ImportParametersResult {
  readonly outcome: CommandOutcome;
  readonly tokenId: string;
  readonly publicKey: string;
  readonly expiresAt: string | null;
}

@Injectable()
export class KeyAdminUseCases {
  constructor(
    @Inject(KEY_COMMAND_HANDLER) private readonly handler: HandleKeyCommand,
    @Inject(ROOT_OF_TRUST) private readonly root: RootOfTrust,
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(KEY_LIMITS) private readonly limits: KeyLifecycleLimits,
    private readonly tokens: PgImportTokenStore,
    @Inject(ID_DERIVATION_KEY) private readonly idKey: Buffer,
    @Inject(TENANT_ROOT_KEYRING) private readonly keyring: TenantRootKeyring,
  ) {}

  async createKey(input: CreateKeyInput, ctx: CallContext): Promise<CommandOutcome> {
    // From the request id only (not the caller): a second caller reusing it lands on the same stream and
    // is refused there (RequestIdReusedError) rather than quietly creating another key.
    const keyId = asKeyId(deterministicId('key-id', ctx.requestId, this.idKey));
    const meta = commandMeta(ctx, 'CreateKey');
    if (input.origin === 'EXTERNAL') return this.handler.handle({ type: 'CreateKey', data: { keyId, ...input }, meta });
    const materialRef = randomUUID();
    return this.keyring.retryOnEpochMove(async () => {
      const { fingerprint, wrapped } = await this.newKek(input.tenant);
      return this.handler.handle(
        { type: 'CreateKey', data: { keyId, ...input, initialVersion: { materialRef, fingerprint } }, meta },
        { material: { version: 1, wrapped } },
      );
    });
  }

  /** `opts.reason` SCHEDULED comes from the rotation scheduler, with the stream version it saw (`expectedVersion`). */
  async rotateKey(keyId: string, ctx: CallContext, opts: { reason?: 'ON_DEMAND' | 'SCHEDULED'; expectedVersion?: number } = {}): Promise<CommandOutcome> {
    const meta = commandMeta(ctx, 'RotateKey');
    const placeholder = { type: 'RotateKey' as const, data: { keyId: asKeyId(keyId), reason: opts.reason ?? 'ON_DEMAND', materialRef: '-', fingerprint: '-' }, meta };
    const { state, seen } = await this.load(keyId, meta.commandId);
    if (seen) return this.handler.handle(placeholder); // a retry: answers with the state, appends nothing
    const expected = opts.expectedVersion !== undefined ? { expectedVersion: opts.expectedVersion } : {};
    // Decide first with a placeholder, so a refused rotation costs no root-of-trust call.
    const probe = decide(placeholder, state, this.limits);
    if (!probe.ok) return probe;
    if (state.status === 'Absent') return { ok: false, rejection: { code: 'KEY_NOT_FOUND', keyId: asKeyId(keyId) } }; // decide refuses it above
    const next = state.highestVersion + 1;
    const materialRef = randomUUID();
    return this.keyring.retryOnEpochMove(async () => {
      const { fingerprint, wrapped } = await this.newKek(state.tenant);
      return this.handler.handle(
        { ...placeholder, data: { ...placeholder.data, materialRef, fingerprint } },
        { material: { version: next, wrapped }, ...expected },
      );
    });
  }

  async issueImportParameters(keyId: string, wrappingAlgorithm: WrappingAlgorithm, wrappingKeySpec: WrappingKeySpec, ctx: CallContext): Promise<ImportParametersResult> {
    const tokenId = deterministicId(`import-token/${keyId}`, ctx.requestId, this.idKey);
    const meta = commandMeta(ctx, 'IssueImportParameters');
    const cmd = { type: 'IssueImportParameters' as const, data: { keyId: asKeyId(keyId), tokenId, wrappingAlgorithm, wrappingKeySpec }, meta };
    const state = foldKeyEvents((await this.store.readStream(keyStreamId(keyId))).map(toKeyEvent));
    const probe = decide(cmd, state, this.limits);
    if (!probe.ok && !(probe.rejection.code === 'IMPORT_TOKEN_INVALID' && probe.rejection.problem === 'DUPLICATE_TOKEN_ID')) {
      return { outcome: probe, tokenId, publicKey: '', expiresAt: null };
    }
    const pair = await generateImportWrappingKeyPair(wrappingKeySpec);
    let wrappedPrivateKey: Buffer;
    try {
      wrappedPrivateKey = await this.root.wrapKey(pair.privateKey);
    } finally {
      pair.privateKey.dispose();
    }
    const outcome = await this.handler.handle(cmd, {
      alsoInTransaction: async (tx, events) => {
        for (const e of events) {
          if (e.type !== 'ImportParametersIssued') continue;
          await this.tokens.save(tx, {
            tokenId, keyId, wrappedPrivateKey, publicKey: pair.publicKey, algorithm: wrappingAlgorithm, wrappingKeySpec, expiresAt: new Date(e.data.expiresAt),
          });
        }
      },
    });
    if (!outcome.ok) return { outcome, tokenId, publicKey: '', expiresAt: null };
    // A retried call (same request id) answers with the token its first attempt stored.
    const stored = await this.tokens.get(tokenId);
    const issued = outcome.state.importTokens.get(tokenId);
    return { outcome, tokenId, publicKey: stored?.publicKey ?? pair.publicKey, expiresAt: issued?.expiresAt ?? null };
  }

  async importKeyMaterial(keyId: string, tokenId: string, encryptedMaterial: Buffer, requested: WrappingAlgorithm | undefined, ctx: CallContext): Promise<CommandOutcome> {
    const stored = await this.tokens.get(tokenId);
    const wrappingAlgorithm = requested ?? (stored?.algorithm as WrappingAlgorithm | undefined) ?? 'RSAES_OAEP_SHA_256';
    const meta = commandMeta(ctx, 'ImportKeyMaterial');
    const build = (materialRef: string, fingerprint: string) =>
      ({ type: 'ImportKeyMaterial' as const, data: { keyId: asKeyId(keyId), tokenId, wrappingAlgorithm, materialRef, fingerprint }, meta });
    const { state, seen } = await this.load(keyId, meta.commandId);
    if (seen) return this.handler.handle(build('-', '-'));
    const probe = decide(build('-', '-'), state, this.limits);
    if (!probe.ok) return probe;
    // The domain knows the token, so it belongs to this key; a missing row means it was already consumed.
    if (stored === null || stored.keyId !== keyId || stored.usedAt !== null) return { ok: false, rejection: { code: 'IMPORT_TOKEN_USED', keyId: asKeyId(keyId), tokenId } };
    const privateKey = await this.root.unwrapKey(stored.wrappedPrivateKey);
    let material: KeyMaterial;
    try {
      material = unwrapImportedMaterial({ algorithm: wrappingAlgorithm, privateKey, encryptedMaterial, expectedLength: 32 });
    } finally {
      privateKey.dispose();
    }
    const next = state.status === 'Absent' ? 1 : state.highestVersion + 1;
    const tenant = state.status === 'Absent' ? null : state.tenant;
    const materialRef = randomUUID();
    try {
      const fingerprint = keyFingerprint(material);
      if (tenant === null) return { ok: false, rejection: { code: 'KEY_NOT_FOUND', keyId: asKeyId(keyId) } }; // decide refuses it above
      return await this.keyring.retryOnEpochMove(async () => this.handler.handle(build(materialRef, fingerprint), {
        material: { version: next, wrapped: await this.keyring.wrap(material, tenant) },
        alsoInTransaction: (tx) => this.tokens.consume(tx, tokenId),
      }));
    } finally {
      material.dispose();
    }
  }

  private async load(keyId: string, commandId: string | undefined): Promise<{ state: KeyState; seen: boolean }> {
    const recorded = await this.store.readStream(keyStreamId(keyId));
    return { state: foldKeyEvents(recorded.map(toKeyEvent)), seen: commandId !== undefined && recorded.some((e) => e.meta.commandId === commandId) };
  }

  private async newKek(tenant: string): Promise<{ fingerprint: string; wrapped: WrappedKek }> {
    const { material, wrapped } = await this.keyring.generateKek(tenant);
    try {
      return { fingerprint: keyFingerprint(material), wrapped };
    } finally {
      material.dispose();
    }
  }
}
