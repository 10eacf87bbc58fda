/**
 * Checks docker-compose.yml against the code, since no Docker engine runs here to try it: every EKM
 * service's environment against its `@ekm/config` schema, its ports and healthcheck against its
 * EKM_HTTP_PORT, its command against the build output, its image build against infra/Dockerfile.
 * Returns the problems found (empty = consistent); the spec also feeds it broken copies.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CONFIG_METADATA, loadConfig } from '@ekm/config';
import { SERVICES, type ServiceName } from '@ekm/contracts';
import { checkComposeDay2 } from './compose-day2-check';

type Doc = Record<string, unknown>;
const isObj = (v: unknown): v is Doc => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Compose interpolation as `docker compose` does it with an empty environment: `${X:-d}` → d. */
export function interpolate(value: string): string {
  return value.replace(/\$\{([A-Z0-9_]+)(?::?-([^}]*))?\}/g, (_m, _name: string, def?: string) => def ?? '');
}

/** A compose `environment` (map or `K=V` list), interpolated. */
export function environmentOf(svc: Doc): Record<string, string> {
  const env = svc.environment;
  const out: Record<string, string> = {};
  if (Array.isArray(env)) {
    for (const item of env as string[]) {
      const i = item.indexOf('=');
      out[i < 0 ? item : item.slice(0, i)] = i < 0 ? '' : interpolate(item.slice(i + 1));
    }
  } else if (isObj(env)) {
    for (const [k, v] of Object.entries(env)) out[k] = interpolate(v === null || v === undefined ? '' : String(v));
  }
  return out;
}

/** `FROM image AS name` stage names of a Dockerfile. */
export function dockerStages(dockerfile: string): string[] {
  return [...dockerfile.matchAll(/^FROM\s+\S+\s+AS\s+(\S+)\s*$/gim)].map((m) => m[1].toLowerCase());
}

const commandOf = (svc: Doc): string[] =>
  Array.isArray(svc.command) ? (svc.command as unknown[]).map(String) : typeof svc.command === 'string' ? svc.command.split(/\s+/) : [];

/** The EKM service a compose service runs (`node dist/apps/<service>/src/main.js`), if any. */
/** Apps that front the bus over HTTP (the AWS KMS-compatible API). */
export const EDGE_APPS = ['kms-api'] as const;

export function ekmServiceOf(svc: Doc): string | undefined {
  return /^dist\/apps\/([^/]+)\/src\/main\.js$/.exec(commandOf(svc).at(-1) ?? '')?.[1];
}

export function checkCompose(compose: Doc, root: string): string[] {
  const problems: string[] = [];
  const services = isObj(compose.services) ? compose.services : {};
  const found = new Map<string, string>(); // EKM service -> compose service name
  const buildScript = String((JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts.build);
  if (!/\bswc\b.*\bapps\b.*-d dist\b/.test(buildScript)) problems.push(`npm run build ("${buildScript}") does not compile apps/ into dist/`);

  for (const [name, raw] of Object.entries(services)) {
    if (!isObj(raw)) continue;
    checkBuild(name, raw, root, problems);
    const service = ekmServiceOf(raw);
    if (service === undefined) continue;
    const where = `services.${name}`;
    // HTTP edges are no bus service (no database, no service config): only their entry point is checked.
    if ((EDGE_APPS as readonly string[]).includes(service)) {
      if (!existsSync(join(root, 'apps', service, 'src', 'main.ts'))) problems.push(`${where}: apps/${service}/src/main.ts does not exist`);
      continue;
    }
    if (!(SERVICES as readonly string[]).includes(service)) {
      problems.push(`${where}: command runs dist/apps/${service}, which is not an EKM service`);
      continue;
    }
    found.set(service, name);
    if (!existsSync(join(root, 'apps', service, 'src', 'main.ts'))) problems.push(`${where}: apps/${service}/src/main.ts does not exist`);
    if (commandOf(raw)[0] !== 'node') problems.push(`${where}: command must start with node`);
    checkEnv(where, service as ServiceName, environmentOf(raw), services, problems);
    checkPorts(where, service as ServiceName, raw, environmentOf(raw), problems);
    checkDependsOn(where, raw, services, problems);
  }
  for (const s of SERVICES) if (!found.has(s)) problems.push(`no compose service runs ${s} (node dist/apps/${s}/src/main.js)`);
  checkBackingServices(services, [...found.values()].map((n) => environmentOf(services[n] as Doc)), root, problems);
  problems.push(...checkComposeDay2(compose, root));
  return problems;
}

/** postgres creates the database the services use; migrate migrates it with their role password; nats has JetStream. */
function checkBackingServices(services: Doc, ekmEnvs: Record<string, string>[], root: string, problems: string[]): void {
  const dbOf = (url: string): string => { try { return new URL(url).pathname.slice(1); } catch { return ''; } };
  const pg = services.postgres;
  const migrate = services.migrate;
  const nats = services.nats;
  const dbs = new Set(ekmEnvs.map((e) => dbOf(e.EKM_DATABASE_URL ?? '')));
  if (!isObj(pg) || !/^postgres:15\b/.test(String(pg.image))) problems.push('services.postgres must run image postgres:15');
  else if (!dbs.has(environmentOf(pg).POSTGRES_DB) || dbs.size !== 1) problems.push(`services.postgres: POSTGRES_DB must create the one database the services use (${[...dbs].join(', ')})`);
  if (!isObj(migrate)) problems.push('services.migrate is missing');
  else {
    const cmd = commandOf(migrate);
    if (cmd.at(-1) !== 'infra/scripts/migrate.js' || !existsSync(join(root, 'infra/scripts/migrate.js'))) problems.push('services.migrate must run node infra/scripts/migrate.js');
    const env = environmentOf(migrate);
    const admin = env.EKM_DATABASE_ADMIN_URL ?? '';
    if (!dbs.has(dbOf(admin))) problems.push('services.migrate: EKM_DATABASE_ADMIN_URL must name the services\' database');
    for (const e of ekmEnvs) {
      let password = '';
      try { password = decodeURIComponent(new URL(e.EKM_DATABASE_URL ?? '').password); } catch { /* reported elsewhere */ }
      if ((env.EKM_DB_ROLE_PASSWORD ?? '') !== password) problems.push('services.migrate: EKM_DB_ROLE_PASSWORD differs from the password in a service\'s EKM_DATABASE_URL');
    }
    if (!isObj(migrate.depends_on) || !isObj(migrate.depends_on.postgres)) problems.push('services.migrate must depend on postgres');
  }
  if (!isObj(nats)) problems.push('services.nats is missing');
  else {
    const mounts = Array.isArray(nats.volumes) ? (nats.volumes as unknown[]).map(String) : [];
    const conf = mounts.map((v) => v.split(':')).find(([host]) => host.startsWith('./'));
    if (!conf) problems.push('services.nats mounts no config file from the repo');
    else {
      const file = join(root, conf[0]);
      if (!existsSync(file)) problems.push(`services.nats mounts ${conf[0]}, which does not exist`);
      else if (!/^\s*jetstream\s*[{:]/m.test(readFileSync(file, 'utf8'))) problems.push(`${conf[0]} does not enable jetstream`);
      if (!commandOf(nats).includes(conf[1])) problems.push(`services.nats command does not load ${conf[1]}`);
    }
  }
}

function checkEnv(where: string, service: ServiceName, env: Record<string, string>, services: Doc, problems: string[]): void {
  const known = new Set(CONFIG_METADATA[service].env.map((v) => v.name));
  for (const k of Object.keys(env)) {
    if (k.startsWith('EKM_') && !known.has(k)) problems.push(`${where}: ${k} is not read by the ${service} service's config`);
  }
  try {
    loadConfig(service, env);
  } catch (err) {
    problems.push(`${where}: ${(err as Error).message}`);
  }
  for (const k of ['EKM_NATS_URL', 'EKM_DATABASE_URL']) {
    if (env[k] === undefined) {
      problems.push(`${where}: ${k} is unset (its default points at 127.0.0.1, which is not the compose network)`);
      continue;
    }
    for (const url of env[k].split(',')) {
      let host = '';
      try { host = new URL(url.trim()).hostname; } catch { continue; } // loadConfig reported it
      if (!isObj(services[host])) problems.push(`${where}: ${k} points at host "${host}", which is not a compose service`);
    }
  }
  if (env.EKM_DATABASE_URL !== undefined) {
    try {
      const user = new URL(env.EKM_DATABASE_URL).username;
      if (user !== `ekm_${service}`) problems.push(`${where}: EKM_DATABASE_URL logs in as "${user}", not the service role ekm_${service}`);
    } catch { /* reported by loadConfig */ }
  }
}

function checkPorts(where: string, service: ServiceName, svc: Doc, env: Record<string, string>, problems: string[]): void {
  const port = Number(env.EKM_HTTP_PORT ?? CONFIG_METADATA[service].defaultHttpPort);
  const ports = Array.isArray(svc.ports) ? (svc.ports as unknown[]).map(String) : [];
  const containerPorts = ports.map((p) => Number(p.split(':').at(-1)?.split('/')[0]));
  if (!containerPorts.includes(port)) problems.push(`${where}: ports ${JSON.stringify(ports)} do not publish EKM_HTTP_PORT ${port}`);
  const hc = isObj(svc.healthcheck) && Array.isArray(svc.healthcheck.test) ? (svc.healthcheck.test as unknown[]).join(' ') : '';
  const m = /https?:\/\/(?:127\.0\.0\.1|localhost):(\d+)(\/[^'"\s)]*)/.exec(hc);
  if (!m) problems.push(`${where}: healthcheck does not probe http://127.0.0.1:<port>/health/ready`);
  else {
    if (Number(m[1]) !== port) problems.push(`${where}: healthcheck probes port ${m[1]}, but EKM_HTTP_PORT is ${port}`);
    if (m[2] !== '/health/ready') problems.push(`${where}: healthcheck probes ${m[2]}, not /health/ready`);
  }
}

function checkDependsOn(where: string, svc: Doc, services: Doc, problems: string[]): void {
  const deps = isObj(svc.depends_on) ? svc.depends_on : {};
  const want: Record<string, string> = { postgres: 'service_healthy', nats: 'service_healthy', migrate: 'service_completed_successfully' };
  for (const [dep, condition] of Object.entries(want)) {
    const d = deps[dep];
    if (!isObj(services[dep])) problems.push(`${where}: there is no compose service "${dep}" to depend on`);
    if (!isObj(d) || d.condition !== condition) problems.push(`${where}: depends_on.${dep} must have condition ${condition}`);
  }
}

function checkBuild(name: string, svc: Doc, root: string, problems: string[]): void {
  if (svc.build === undefined) return;
  const b = isObj(svc.build) ? svc.build : { context: svc.build };
  const context = join(root, String(b.context ?? '.'));
  const dockerfilePath = join(context, String(b.dockerfile ?? 'Dockerfile'));
  if (!existsSync(dockerfilePath)) {
    problems.push(`services.${name}: build.dockerfile ${String(b.dockerfile)} does not exist`);
    return;
  }
  const dockerfile = readFileSync(dockerfilePath, 'utf8');
  const stages = dockerStages(dockerfile);
  if (b.target !== undefined && !stages.includes(String(b.target).toLowerCase())) {
    problems.push(`services.${name}: build.target "${String(b.target)}" is not a stage of ${String(b.dockerfile)} (${stages.join(', ')})`);
  }
  for (const m of dockerfile.matchAll(/--from=(\S+)/g)) {
    if (!stages.includes(m[1].toLowerCase())) problems.push(`${String(b.dockerfile)}: COPY --from=${m[1]} names no stage`);
  }
  // Plain COPY sources (not --from) must exist in the build context.
  for (const m of dockerfile.matchAll(/^COPY\s+(?!.*--from)(?:--\S+\s+)*(.+)$/gim)) {
    const parts = m[1].trim().split(/\s+/);
    for (const src of parts.slice(0, -1)) {
      if (!existsSync(join(context, src))) problems.push(`${String(b.dockerfile)}: COPY source ${src} does not exist`);
    }
  }
}
