import { ReadinessRegistry } from './readiness';

describe('ReadinessRegistry', () => {
  it('is ready only when every check passes, and names the failing ones with their reasons', async () => {
    const r = new ReadinessRegistry(50);
    r.register('ok', () => true);
    r.register('void', async () => undefined);
    expect(await r.run()).toEqual({ ok: true, checks: [{ name: 'ok', ok: true }, { name: 'void', ok: true }] });
    r.register('reason', () => 'stream drifted');
    r.register('throws', async () => { throw new Error('connection refused'); });
    r.register('false', () => false);
    r.register('hangs', () => new Promise<void>(() => undefined));
    const report = await r.run();
    expect(report.ok).toBe(false);
    expect(report.checks.filter((c) => !c.ok)).toEqual([
      { name: 'reason', ok: false, reason: 'stream drifted' },
      { name: 'throws', ok: false, reason: 'connection refused' },
      { name: 'false', ok: false, reason: 'failed' },
      { name: 'hangs', ok: false, reason: 'check timed out after 50 ms' },
    ]);
  });

  it('reports not ready once shutdown began', async () => {
    const r = new ReadinessRegistry();
    r.register('ok', () => true);
    r.markShuttingDown();
    expect(await r.run()).toMatchObject({ ok: false, checks: [{ name: 'ok', ok: true }, { name: 'shutdown', ok: false }] });
  });
});
