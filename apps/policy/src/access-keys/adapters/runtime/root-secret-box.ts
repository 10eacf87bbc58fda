/**
 * Access-key secrets wrapped under the root of trust the keys service uses (software sealed root or
 * PKCS#11), opened on first use so a policy replica that never sees an access key never opens the root.
 * The material is 32 bytes (an AES key length, which a PKCS#11 token can import and wrap).
 */
import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import { KeyMaterial, Pkcs11RootOfTrust, SoftwareRootOfTrust, type RootOfTrust } from '@ekm/crypto';
import type { PolicyConfig } from '@ekm/config';
import { SERVICE_CONFIG } from '@ekm/service-kit';
import type { SecretBox } from '../../application/access-key.ports';

@Injectable()
export class RootSecretBox implements SecretBox, OnApplicationShutdown {
  private root: Promise<RootOfTrust> | null = null;

  constructor(@Inject(SERVICE_CONFIG) private readonly config: PolicyConfig) {}

  async wrap(secret: Buffer): Promise<Buffer> {
    const material = KeyMaterial.copyOf(secret);
    try {
      return await (await this.open()).wrapKey(material);
    } finally {
      material.dispose();
    }
  }

  async unwrap(wrapped: Buffer): Promise<Buffer> {
    const material = await (await this.open()).unwrapKey(wrapped);
    try {
      return material.use((b) => Buffer.from(b));
    } finally {
      material.dispose();
    }
  }

  async onApplicationShutdown(): Promise<void> {
    const root = this.root;
    this.root = null;
    if (root) await (await root.catch(() => null))?.close();
  }

  private open(): Promise<RootOfTrust> {
    const r = this.config.rootOfTrust;
    const opening = this.root ?? Promise.resolve().then((): RootOfTrust | Promise<RootOfTrust> => (r.kind === 'pkcs11'
      ? Pkcs11RootOfTrust.open({ library: r.library, tokenLabel: r.tokenLabel, pin: r.pin, keyLabel: r.keyLabel })
      : SoftwareRootOfTrust.open({ dataDir: this.config.dataDir, env: this.config.env, ...(r.secret !== undefined ? { secret: r.secret } : {}) })))
      .catch((err: unknown) => {
        this.root = null; // retried on the next call (HSM back, file restored)
        throw err;
      });
    this.root = opening;
    return opening;
  }
}
