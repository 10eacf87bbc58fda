/**
 * Login rate limit (EKM_LOGIN_RATE_LIMIT_RPS / _BURST, docs/rate-limits.md): per claimed principal and
 * credential, before the proof is verified; a refusal is EKM_RATE_LIMITED and says nothing about whether
 * the ids exist.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LOGIN_SUBJECT, signLoginRequest, type CredentialFile } from '@ekm/auth';
import type { Reply } from '@ekm/contracts';
import { dataOf, startPolicyHarness, type PolicyHarness } from './policy.test-harness';

const BURST = 4;

describe('login rate limit', () => {
  let h: PolicyHarness;
  let dir: string;
  let admin: CredentialFile;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ekm-login-rl-'));
    process.env.EKM_BOOTSTRAP_CREDENTIALS_FILE = join(dir, 'admin.credentials');
    // 1 login per 100 s: the bucket does not refill noticeably during the test.
    h = await startPolicyHarness({ env: { EKM_LOGIN_RATE_LIMIT_RPS: '1', EKM_LOGIN_RATE_LIMIT_BURST: String(BURST) } });
    admin = JSON.parse(readFileSync(join(dir, 'admin.credentials'), 'utf8')) as CredentialFile;
  });
  afterAll(async () => {
    delete process.env.EKM_BOOTSTRAP_CREDENTIALS_FILE;
    await h?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const login = async (body: object): Promise<Reply<{ sessionToken: string }>> =>
    (await h.nc.request(LOGIN_SUBJECT, JSON.stringify(body), { timeout: 10_000 })).json<Reply<{ sessionToken: string }>>();
  const codes = (rs: Reply<unknown>[]): string[] => rs.map((r) => (r.ok ? 'ok' : r.error.code));

  it('a credential logs in BURST times, then gets EKM_RATE_LIMITED with a retry hint; another credential is not affected', async () => {
    const created = dataOf(await h.call<{ credential: CredentialFile }>('create-principal', { tenant: 'acme', roles: ['app'] }, { principal: admin.principalId }));
    const app = created.credential;
    const results: Reply<{ sessionToken: string }>[] = [];
    for (let i = 0; i < BURST + 3; i++) results.push(await login(signLoginRequest(app)));
    expect(codes(results)).toEqual([...Array<string>(BURST).fill('ok'), 'EKM_RATE_LIMITED', 'EKM_RATE_LIMITED', 'EKM_RATE_LIMITED']);
    const refused = results[BURST];
    if (refused.ok) throw new Error('expected a refusal');
    expect(refused.error.details).toMatchObject({ scope: 'login', ratePerSecond: 1, burst: BURST });
    expect((refused.error.details as { retryAfterMs: number }).retryAfterMs).toBeGreaterThan(0);
    expect(JSON.stringify(refused)).not.toContain(app.privateKey);
    // The admin's own bucket is untouched.
    expect(codes([await login(signLoginRequest(admin))])).toEqual(['ok']);
  });

  it('made-up ids and a real credential with a bad proof are refused alike: no existence oracle', async () => {
    const created = dataOf(await h.call<{ credential: CredentialFile }>('create-principal', { tenant: 'acme', roles: ['app'] }, { principal: admin.principalId }));
    const real = created.credential;
    const badProof = (): object => ({ ...signLoginRequest(real), signature: signLoginRequest(admin).signature });
    const madeUp = (): object => ({ ...signLoginRequest(real), principalId: 'p-does-not-exist', credentialId: 'c-does-not-exist' });
    const realSeq: Reply<unknown>[] = [];
    const madeUpSeq: Reply<unknown>[] = [];
    for (let i = 0; i < BURST + 2; i++) {
      realSeq.push(await login(badProof()));
      madeUpSeq.push(await login(madeUp()));
    }
    const expected = [...Array<string>(BURST).fill('EKM_UNAUTHENTICATED'), 'EKM_RATE_LIMITED', 'EKM_RATE_LIMITED'];
    expect(codes(realSeq)).toEqual(expected);
    expect(codes(madeUpSeq)).toEqual(expected);
    const messages = (rs: Reply<unknown>[]): string[] => rs.map((r) => (r.ok ? '' : r.error.message.replace(/\d+ ms/, 'N ms')));
    expect(messages(realSeq)).toEqual(messages(madeUpSeq));
  });
});
