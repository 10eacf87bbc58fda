/**
 * What every command shares: the global options, the output streams and format, and one lazily
 * opened SDK connection (commands that need no bus, such as `ekm import wrap`, never connect).
 */
import { existsSync, writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { connect as natsConnect, type NatsConnection } from '@nats-io/transport-node';
import type { CredentialFile } from '@ekm/auth';
import { Ekm, type AuditClient, type CryptoClient, type EkmClient, type KeysClient, type PolicyClient, type RotationClient } from '@ekm/client';
import { unreachable, usageError } from './cli-error';
import { resolveConnection, type ConnectionSettings } from './cli-connection';
import { ExitCode } from './exit-codes';
import { formatError, formatOf, isMachineFormat, machineDocument, type OutputFormat } from './output-format';
import type { CliIo } from './output';
import { terminalView, type TerminalView, type TtyInfo } from './terminal';

export { credentialsFile } from './cli-connection';

/** The SDK surface the commands use (unit tests pass a recording fake). */
export interface EkmApi {
  readonly keys: Pick<KeysClient, keyof KeysClient>;
  readonly crypto: Pick<CryptoClient, keyof CryptoClient>;
  readonly policy: Pick<PolicyClient, keyof PolicyClient>;
  readonly rotation: Pick<RotationClient, keyof RotationClient>;
  readonly audit: Pick<AuditClient, keyof AuditClient>;
  /** The raw `call()` (every service's `status`). */
  readonly client: Pick<EkmClient, 'call'>;
  close(): Promise<void>;
}

/** What a connection is opened with (all of it resolved and checked before connecting). */
export interface ConnectOptions {
  readonly url: string;
  readonly timeoutMs: number;
  readonly credentials?: CredentialFile;
  readonly user?: string;
  readonly pass?: string;
  readonly inboxPrefix?: string;
  /** An nkey NATS identity file (up's `.ekm/nats-auth/cli.json`); TLS CA; the service identity to pin. */
  readonly natsCredentials?: string;
  readonly tls?: { readonly caFile: string };
  readonly serviceKey?: string;
}

/** Opens the SDK; the default connects to NATS. */
export type Connect = (options: ConnectOptions) => Promise<EkmApi>;

/** Injected dependencies of one CLI run. */
export interface CliDeps {
  readonly io: CliIo;
  readonly env: NodeJS.ProcessEnv;
  readonly cwd: string;
  readonly connect?: Connect;
  /** stdout's TTY-ness and width (main.ts passes process.stdout); absent = a pipe. */
  readonly stdoutTty?: TtyInfo;
}

/** Global options (`ekm --nats URL --output json --timeout MS <command>`). */
export interface GlobalOptions {
  readonly nats?: string;
  readonly json?: boolean;
  readonly output?: OutputFormat;
  readonly timeout?: number;
  readonly credentials?: string;
  readonly natsCreds?: string;
  readonly inboxPrefix?: string;
}

export const DEFAULT_TIMEOUT_MS = 5000;

const connectNats: Connect = async ({ url, timeoutMs, credentials, user, pass, inboxPrefix, natsCredentials, tls, serviceKey }) => {
  try {
    return await Ekm.connect({
      servers: url, timeoutMs, connectTimeoutMs: timeoutMs, name: 'ekm-cli',
      ...(credentials !== undefined ? { credentials } : {}), ...(user !== undefined ? { user, pass: pass ?? '' } : {}), ...(inboxPrefix ? { inboxPrefix } : {}), ...(natsCredentials !== undefined ? { natsCredentials } : {}), ...(tls ? { tls } : {}), ...(serviceKey ? { serviceKey } : {}),
    });
  } catch (e) {
    throw unreachable(url, e instanceof Error ? e.message : String(e));
  }
};

export class CliContext {
  private ekm: Promise<EkmApi> | undefined;
  private settings: ConnectionSettings | undefined;
  /** Exit code of a command that succeeded with a negative answer (e.g. a MAC that does not verify). */
  exitCode = 0;
  /** Width and colour of stdout. */
  readonly view: TerminalView;

  constructor(readonly deps: CliDeps) {
    this.view = terminalView(deps.env, deps.stdoutTty);
  }

  /** Global options as seen from `cmd` (they may be given before or after the subcommand). */
  globals(cmd: Command): GlobalOptions {
    return cmd.optsWithGlobals<GlobalOptions>();
  }

  /** `--output` (or `--json`) of this run. */
  format(cmd: Command): OutputFormat {
    return formatOf(this.globals(cmd));
  }

  /** Whether output goes to a script (json/yaml): no progress bars, no human text on stdout. */
  isMachine(cmd: Command): boolean {
    return isMachineFormat(this.format(cmd));
  }

  /** Where and how to connect (read once; a bad file or no NATS URL throws EKM_CLI_CONFIG before anything is sent). */
  connection(cmd: Command): ConnectionSettings {
    this.settings ??= resolveConnection(this.globals(cmd), this.deps.env, this.deps.cwd);
    return this.settings;
  }

  private timeoutMs(cmd: Command): number {
    return this.globals(cmd).timeout ?? DEFAULT_TIMEOUT_MS;
  }

  /** The SDK, connected on first use with the resolved settings and `--timeout`. */
  api(cmd: Command): Promise<EkmApi> {
    if (!this.ekm) {
      let c: ConnectionSettings;
      try {
        c = this.connection(cmd);
      } catch (e) {
        return Promise.reject(e as Error);
      }
      this.ekm = (this.deps.connect ?? connectNats)({
        url: c.url, timeoutMs: this.timeoutMs(cmd),
        ...(c.credentials ? { credentials: c.credentials } : {}), ...(c.user !== undefined ? { user: c.user, pass: c.pass ?? '' } : {}), ...(c.inboxPrefix ? { inboxPrefix: c.inboxPrefix } : {}),
        ...(c.natsCredentials ? { natsCredentials: c.natsCredentials } : {}), ...(c.tls ? { tls: c.tls } : {}), ...(c.serviceKey ? { serviceKey: c.serviceKey } : {}),
      });
    }
    return this.ekm;
  }

  /** A plain NATS connection with the same URL and login (JetStream reads, progress subscriptions); the caller closes it. */
  async nats(cmd: Command, name = 'ekm-cli'): Promise<NatsConnection> {
    const c = this.connection(cmd);
    try {
      return await natsConnect({
        servers: c.url.split(','), name, timeout: this.timeoutMs(cmd),
        ...(c.user !== undefined ? { user: c.user, pass: c.pass ?? '' } : {}), ...(c.inboxPrefix ? { inboxPrefix: c.inboxPrefix } : {}),
      });
    } catch (e) {
      throw unreachable(c.url, e instanceof Error ? e.message : String(e));
    }
  }

  /**
   * A key id for services that take only ids (rotation, audit): `alias/NAME` is resolved through the
   * keys service to the key it names now; an id is passed through unchanged.
   */
  async keyIdOf(cmd: Command, ref: string): Promise<string> {
    if (!ref.startsWith('alias/')) return ref;
    return (await (await this.api(cmd)).keys.describeKey(ref)).keyId;
  }

  /**
   * Prints the command's result: one document in the `--output` format, or the human text (which gets
   * the terminal's width and colour for its tables).
   */
  print(cmd: Command, value: unknown, human: (view: TerminalView) => string | Buffer): void {
    const format = this.format(cmd);
    this.deps.io.stdout(format === 'table' ? human(this.view) : machineDocument(format, value));
  }

  /**
   * A command whose result was printed but some of whose items failed (batches, folders): exit 1.
   * Scripts (json/yaml) find the failures in the one document on stdout, so nothing goes to stderr;
   * people also get a one-line summary on stderr.
   */
  partialFailure(cmd: Command, code: string, message: string): void {
    this.exitCode = ExitCode.ServiceError;
    if (!this.isMachine(cmd)) this.deps.io.stderr(formatError(code, message, 'table'));
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
