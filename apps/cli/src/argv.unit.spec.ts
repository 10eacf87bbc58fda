import { normalizeArgv } from './argv';

describe('normalizeArgv', () => {
  it('--version / -V before the command word is a version request', () => {
    for (const argv of [['--version'], ['-V'], ['--json', '-V'], ['--nats', 'nats://x:1', '--version'], ['--version', 'key', 'list']]) expect(normalizeArgv(argv)).toBe('version');
  });
  it('after the command word it belongs to the command', () => {
    const argv = ['rotation', 'rewrap', '--key', 'k', '--version', '1'];
    expect(normalizeArgv(argv)).toEqual(argv);
    expect(normalizeArgv(['--nats', '--version', 'key', 'list'])).toEqual(['--nats', '--version', 'key', 'list']); // the value of --nats
  });
  it('help <path> becomes <path> --help; help alone stays', () => {
    expect(normalizeArgv(['help', 'key', 'create'])).toEqual(['key', 'create', '--help']);
    expect(normalizeArgv(['--json', 'help', 'audit'])).toEqual(['--json', 'audit', '--help']);
    expect(normalizeArgv(['help'])).toEqual(['help']);
  });
});
