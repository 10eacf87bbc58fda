/**
 * TEST ONLY. Fresh SoftHSM2 tokens for integration tests, without touching the machine's
 * /etc/softhsm2.conf or /var/lib/softhsm.
 *
 * SoftHSM2 reads SOFTHSM2_CONF and scans its token directory once, at C_Initialize, and we call
 * C_Initialize once per process: tokens created afterwards are invisible. So the first call in a
 * process writes one temp softhsm2.conf, points SOFTHSM2_CONF at it (in the REAL process env: jest
 * gives each test file a copy of process.env that native code never sees), and initializes a batch
 * of tokens up front; each call hands out the next unused one (fresh: no objects, never logged in).
 * Jest reuses worker processes across test files, so the state lives on the real process too.
 * Call it in beforeAll, before the first Pkcs11RootOfTrust.open() of the process.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Script } from 'node:vm';

export const SOFTHSM_LIBRARY = '/usr/lib/softhsm/libsofthsm2.so';
const TOKENS_PER_PROCESS = 8;
const STATE = Symbol.for('ekm.test.softhsm');

export type SoftHsmToken = {
  library: string;
  tokenLabel: string;
  pin: string;
  soPin: string;
  conf: string;
  /** directories.tokendir of the process's conf (shared by all its tokens): move it away to make the tokens vanish. */
  tokensDir: string;
  /** Nothing to undo per token (the library keeps the token open); the temp dir goes at process exit. */
  cleanup: () => void;
};

type ProcessState = { dir: string; conf: string; tokens: Array<{ tokenLabel: string; pin: string; soPin: string }>; next: number };

export function createSoftHsmToken(): SoftHsmToken {
  const real = realProcess();
  const holder = real as unknown as Record<symbol, ProcessState | undefined>;
  holder[STATE] ??= initProcessState(real);
  const state = holder[STATE];
  const token = state.tokens[state.next++];
  if (!token) {
    throw new Error(`createSoftHsmToken: all ${TOKENS_PER_PROCESS} tokens of this process are used; raise TOKENS_PER_PROCESS`);
  }
  process.env.SOFTHSM2_CONF = state.conf; // the jest copy, for child processes started from the test
  return { library: SOFTHSM_LIBRARY, ...token, conf: state.conf, tokensDir: join(state.dir, 'tokens'), cleanup: () => undefined };
}

function initProcessState(real: NodeJS.Process): ProcessState {
  if (!existsSync(SOFTHSM_LIBRARY)) throw new Error(`SoftHSM2 is not installed (${SOFTHSM_LIBRARY})`);
  const dir = mkdtempSync(join(tmpdir(), 'ekm-softhsm-'));
  mkdirSync(join(dir, 'tokens'), { mode: 0o700 });
  const conf = join(dir, 'softhsm2.conf');
  writeFileSync(conf, `directories.tokendir = ${join(dir, 'tokens')}\nobjectstore.backend = file\nlog.level = ERROR\nslots.removable = false\n`);
  real.env.SOFTHSM2_CONF = conf;
  const run = randomBytes(4).toString('hex');
  const tokens = Array.from({ length: TOKENS_PER_PROCESS }, (_, i) => {
    const token = { tokenLabel: `ekm-test-${run}-${i}`, pin: randomBytes(6).toString('hex'), soPin: randomBytes(6).toString('hex') };
    execFileSync('softhsm2-util', ['--init-token', '--free', '--label', token.tokenLabel, '--pin', token.pin, '--so-pin', token.soPin], {
      env: { ...real.env, SOFTHSM2_CONF: conf },
      stdio: 'pipe',
    });
    return token;
  });
  real.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  return { dir, conf, tokens, next: 0 };
}

/** The host process object (jest's sandbox `process` is a copy whose env writes never reach getenv()). */
function realProcess(): NodeJS.Process {
  return new Script('process').runInThisContext() as NodeJS.Process;
}
