/**
 * What every command shares: the global options, the output streams, and one lazily opened SDK
 * connection (commands that need no bus, such as `ekm import wrap`, never connect).
 */
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { Ekm, type CryptoClient, type KeysClient } from '@ekm/client';
import { unreachable, usageError } from './cli-error';
import { resolveNatsUrl } from './nats-url';
import { cliNatsLogin, type CliNatsLogin } from './nats-login';
import { jsonDocument, type CliIo } from './output';

/** The SDK surface the commands use (unit tests pass a recording fake). */
export interface EkmApi {
  readonly keys: Pick<KeysClient, keyof KeysClient>;
  readonly crypto: Pick<CryptoClient, keyof CryptoClient>;
  close(): Promise<void>;
}

/** Opens the SDK; the default connects to NATS. */
export type Connect = (options: { url: string; timeoutMs: number; credentials?: string; login?: CliNatsLogin }) => Promise<EkmApi>;

/** Injected dependencies of one CLI run. */
export interface CliDeps {
  readonly io: CliIo;
  readonly env: NodeJS.ProcessEnv;
  readonly cwd: string;
  readonly connect?: Connect;
}

/** Global options (`ekm --nats URL --json --timeout MS <command>`). */
export interface GlobalOptions {
  readonly nats?: string;
  readonly json?: boolean;
  readonly timeout?: number;
  readonly credentials?: string;
}

export const DEFAULT_TIMEOUT_MS = 5000;

const connectNats: Connect = async ({ url, timeoutMs, credentials, login }) => {
  try {
    return await Ekm.connect({ servers: url, timeoutMs, connectTimeoutMs: timeoutMs, name: 'ekm-cli', ...(credentials !== undefined ? { credentials } : {}), ...login });
  } catch (e) {
    throw unreachable(url, e instanceof Error ? e.message : String(e));
  }
};

/**
 * The credential file requests are signed with: `--credentials FILE`, else `EKM_CREDENTIALS`, else
 * `.ekm/admin.credentials` (written by `npm run up`) when it exists; none = unsigned requests (only
 * services with EKM_AUTH=disabled accept them).
 */
export function credentialsFile(flag: string | undefined, env: NodeJS.ProcessEnv, cwd: string): string | undefined {
  if (flag !== undefined) return flag;
  if (env.EKM_CREDENTIALS) return env.EKM_CREDENTIALS;
  const local = join(cwd, '.ekm', 'admin.credentials');
  return existsSync(local) ? local : undefined;
}

export class CliContext {
  private ekm: Promise<EkmApi> | undefined;
  /** Exit code of a command that succeeded with a negative answer (e.g. a MAC that does not verify). */
  exitCode = 0;

  constructor(readonly deps: CliDeps) {}

  /** Global options as seen from `cmd` (they may be given before or after the subcommand). */
  globals(cmd: Command): GlobalOptions {
    return cmd.optsWithGlobals<GlobalOptions>();
  }

  /** The SDK, connected on first use with the resolved NATS URL and `--timeout`. */
  api(cmd: Command): Promise<EkmApi> {
    if (!this.ekm) {
      const g = this.globals(cmd);
      const { url } = resolveNatsUrl(g.nats, this.deps.env, this.deps.cwd);
      const credentials = credentialsFile(g.credentials, this.deps.env, this.deps.cwd);
      const login = cliNatsLogin(this.deps.env, this.deps.cwd, url);
      this.ekm = (this.deps.connect ?? connectNats)({ url, timeoutMs: g.timeout ?? DEFAULT_TIMEOUT_MS, ...(credentials !== undefined ? { credentials } : {}), login });
    }
    return this.ekm;
  }

  /** Prints `json` as the one JSON document with `--json`, else the human text. */
  print(cmd: Command, json: unknown, human: () => string | Buffer): void {
    this.deps.io.stdout(this.globals(cmd).json ? jsonDocument(json) : human());
  }

  /** Writes an output file (mode 0600: outputs may be plaintext or key material). */
  writeFile(option: string, path: string, data: Buffer): void {
    try {
      writeFileSync(path, data, { mode: 0o600 });
    } catch (e) {
      throw usageError(`${option} ${path}: cannot write the file (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
    }
  }

  /** Sets the exit code for a successful command whose answer is "no". */
  setExitCode(code: number): void {
    this.exitCode = code;
  }

  /** Whether a path names an existing file (for `FILE|B64` options). */
  exists(path: string): boolean {
    return existsSync(path);
  }

  /** Closes the connection if one was opened. */
  async close(): Promise<void> {
    const ekm = this.ekm;
    this.ekm = undefined;
    if (!ekm) return;
    try {
      await (await ekm).close();
    } catch {
      // The connection never opened (its error was already reported) or is already gone.
    }
  }
}
