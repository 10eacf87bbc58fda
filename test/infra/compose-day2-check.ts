/**
 * The parts of docker-compose.yml that make the stack usable after `docker compose up`, and again after
 * `down`/`up`: every service that seals under the root of trust has its secret and a named volume for its
 * data dir; the policy service writes the bootstrap admin's credential into a volume; a one-shot service
 * installs the operator policy as that admin; NATS is published to the host, and the user that
 * service and the host's CLI connect as exists in the mounted accounts file.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CONFIG_METADATA } from '@ekm/config';
import { SERVICES } from '@ekm/contracts';
import { ekmServiceOf, environmentOf } from './compose-check';

type Doc = Record<string, unknown>;
const isObj = (v: unknown): v is Doc => typeof v === 'object' && v !== null && !Array.isArray(v);
const list = (v: unknown): string[] => (Array.isArray(v) ? v.map(String) : []);
/** Named-volume mounts "name:/path[:mode]" of a service (bind mounts start with . or /). */
const namedMounts = (svc: Doc): Array<{ volume: string; path: string }> =>
  list(svc.volumes).map((v) => v.split(':')).filter(([src]) => src && !/^[./~]/.test(src)).map(([volume, path]) => ({ volume: volume!, path: path ?? '' }));
const commandText = (svc: Doc): string => (Array.isArray(svc.command) ? svc.command.map(String).join(' ') : String(svc.command ?? ''));

export function checkComposeDay2(compose: Doc, root: string): string[] {
  const problems: string[] = [];
  const services = isObj(compose.services) ? compose.services : {};
  const declared = new Set(Object.keys(isObj(compose.volumes) ? compose.volumes : {}));
  const byEkm = new Map<string, [string, Doc]>();
  for (const [name, raw] of Object.entries(services)) {
    const s = isObj(raw) ? ekmServiceOf(raw) : undefined;
    if (s && isObj(raw)) byEkm.set(s, [name, raw]);
  }

  // Everything that seals: a root secret (or PIN) and its data dir on a named, declared volume.
  for (const s of SERVICES) {
    const entry = byEkm.get(s);
    if (!entry || !CONFIG_METADATA[s].env.some((v) => v.name === 'EKM_ROOT_OF_TRUST')) continue;
    const [name, svc] = entry;
    const env = environmentOf(svc);
    const kind = env.EKM_ROOT_OF_TRUST ?? 'software';
    if (kind === 'software' && !env.EKM_ROOT_SECRET) problems.push(`services.${name}: seals under the software root but sets no EKM_ROOT_SECRET (a generated one would not survive the container)`);
    if (kind === 'pkcs11' && !env.EKM_PKCS11_PIN) problems.push(`services.${name}: EKM_ROOT_OF_TRUST=pkcs11 without EKM_PKCS11_PIN`);
    const dataDir = env.EKM_DATA_DIR ?? '/var/lib/ekm';
    const mount = namedMounts(svc).find((m) => m.path === dataDir);
    if (!mount) problems.push(`services.${name}: its data dir ${dataDir} (the sealed root) is on no named volume: lost at the next down/up`);
    else if (!declared.has(mount.volume)) problems.push(`services.${name}: volume ${mount.volume} is not declared under volumes:`);
  }
  // keys and audit on one root: the same volume and secret (else two roots, and a restore needs both).
  const sealers = ['keys', 'audit'].map((s) => byEkm.get(s)).filter((e): e is [string, Doc] => e !== undefined);
  if (sealers.length === 2) {
    const [a, b] = sealers.map(([, svc]) => ({ env: environmentOf(svc), vol: namedMounts(svc).find((m) => m.path === (environmentOf(svc).EKM_DATA_DIR ?? '/var/lib/ekm'))?.volume }));
    if (a!.vol !== b!.vol || a!.env.EKM_ROOT_SECRET !== b!.env.EKM_ROOT_SECRET) problems.push('services.keys and services.audit must share one root of trust (same data volume and EKM_ROOT_SECRET)');
  }

  // Bootstrap admin: the policy service writes the credential into a named volume.
  const policy = byEkm.get('policy');
  const credFile = policy ? environmentOf(policy[1]).EKM_BOOTSTRAP_CREDENTIALS_FILE : undefined;
  if (!policy || !credFile) problems.push('services.policy: EKM_BOOTSTRAP_CREDENTIALS_FILE is unset: no operator admin, nobody can log in');
  else if (!namedMounts(policy[1]).some((m) => credFile.startsWith(`${m.path}/`))) problems.push(`services.policy: ${credFile} is on no named volume`);

  // Operator policy: a one-shot service puts infra/policies/operator-admin.json as that admin.
  const installer = Object.entries(services).find(([, s]) => isObj(s) && /policy put infra\/policies\/operator-admin\.json/.test(commandText(s)));
  if (!installer) problems.push('no compose service installs the operator policy (ekm policy put infra/policies/operator-admin.json)');
  else {
    const [name, svc] = installer as [string, Doc];
    const env = environmentOf(svc);
    if (!existsSync(join(root, 'infra/policies/operator-admin.json'))) problems.push('infra/policies/operator-admin.json does not exist');
    if (!/COPY\b.*infra\/policies/.test(readFileSync(join(root, 'infra/Dockerfile'), 'utf8'))) problems.push('infra/Dockerfile does not copy infra/policies into the image');
    if (credFile && env.EKM_CREDENTIALS !== credFile) problems.push(`services.${name}: EKM_CREDENTIALS must be the bootstrap credential ${credFile}`);
    if (policy && !namedMounts(svc).some((m) => namedMounts(policy[1]).some((p) => p.volume === m.volume))) problems.push(`services.${name}: does not mount the policy service's credential volume`);
    const deps = isObj(svc.depends_on) ? svc.depends_on : {};
    for (const d of ['policy', 'keys']) if (!isObj(deps[d]) || deps[d].condition !== 'service_healthy') problems.push(`services.${name}: depends_on.${d} must have condition service_healthy`);
    checkNatsUser(`services.${name}`, env, services, root, problems);
  }

  // NATS from the host.
  const nats = services.nats;
  if (isObj(nats) && !list(nats.ports).some((p) => /(^|:)4222$/.test(p))) problems.push('services.nats does not publish 4222: the host CLI/SDK cannot reach it');
  return problems;
}

/** The user a caller connects as must be a user of the accounts file the nats service mounts. */
function checkNatsUser(where: string, env: Record<string, string>, services: Doc, root: string, problems: string[]): void {
  const nats = services.nats;
  const files = isObj(nats) ? list(nats.volumes).map((v) => v.split(':')[0]!).filter((f) => f.startsWith('./') && f.endsWith('.conf')) : [];
  const text = files.filter((f) => existsSync(join(root, f))).map((f) => readFileSync(join(root, f), 'utf8')).join('\n');
  if (!/\busers\s*:/.test(text)) return; // a NATS without accounts: nothing to log in as
  if (!env.EKM_NATS_USER) problems.push(`${where}: EKM_NATS_USER is unset, but the NATS accounts refuse anonymous connects`);
  else if (!new RegExp(`user:\\s*"?${env.EKM_NATS_USER}"?[\\s,]`).test(text)) problems.push(`${where}: NATS user ${env.EKM_NATS_USER} is not in the mounted accounts file`);
}
