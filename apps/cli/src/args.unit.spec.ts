import fc from 'fast-check';
import { exactlyOne, parseBase64, parseIntBetween, parseKeyValue, readFileArg, toStringMap } from './args';
import { CliError } from './cli-error';

const usage = (f: () => unknown): CliError => {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(CliError);
    expect((e as CliError).code).toBe('EKM_CLI_USAGE');
    return e as CliError;
  }
  throw new Error('expected a usage error');
};

describe('key=value options', () => {
  it('splits at the first = and keeps = in values', () => {
    expect(parseKeyValue('--context', 'collection=docs')).toEqual(['collection', 'docs']);
    expect(parseKeyValue('--context', 'q=a=b')).toEqual(['q', 'a=b']);
    expect(parseKeyValue('--tag', 'empty=')).toEqual(['empty', '']);
  });
  it.each(['novalue', '=v', ''])('refuses %p and names the option', (text) => {
    expect(usage(() => parseKeyValue('--context', text)).message).toMatch(/^--context expects key=value/);
  });
  it('folds repeats into a map, refuses a repeated key, and is undefined when absent', () => {
    expect(toStringMap('--context', ['tenant=acme', 'collection=docs'])).toEqual({ tenant: 'acme', collection: 'docs' });
    expect(usage(() => toStringMap('--context', ['a=1', 'a=2'])).message).toBe('--context a is given more than once');
    expect(toStringMap('--context', undefined)).toBeUndefined();
    expect(toStringMap('--context', [])).toBeUndefined();
  });
  it('round-trips any map whose keys have no =', () => {
    const key = fc.string({ minLength: 1 }).filter((k) => !k.includes('=') && k !== '__proto__');
    fc.assert(fc.property(fc.dictionary(key, fc.string()), (map) => {
      const entries = Object.entries(map).map(([k, v]) => `${k}=${v}`);
      expect(toStringMap('--context', entries) ?? {}).toEqual(map);
    }));
  });
});

describe('numbers, base64, files and exclusive inputs', () => {
  it('accepts whole numbers in range only', () => {
    expect(parseIntBetween('--bytes', '32', 1, 1024)).toBe(32);
    for (const bad of ['0', '1025', '1.5', '-1', 'abc', '', '1e3']) expect(usage(() => parseIntBetween('--bytes', bad, 1, 1024)).message).toContain('between 1 and 1024');
  });
  it('decodes strict base64 and refuses what Buffer would silently skip', () => {
    expect(parseBase64('--blob', 'aGVsbG8=')).toEqual(Buffer.from('hello'));
    expect(parseBase64('--blob', 'aGVs\nbG8=')).toEqual(Buffer.from('hello'));
    for (const bad of ['', 'not base64!', 'a', 'aGVsbG8=x']) usage(() => parseBase64('--blob', bad));
  });
  it('names the option and path of an unreadable file', () => {
    expect(usage(() => readFileArg('--in', '/nonexistent/ekm-file')).message).toBe('--in /nonexistent/ekm-file: cannot read the file (ENOENT)');
  });
  it('wants exactly one input source', () => {
    expect(exactlyOne({ '--in': undefined, '--text': 'hi' })).toEqual(['--text', 'hi']);
    expect(usage(() => exactlyOne({ '--in': 'f', '--text': 'hi' })).message).toBe('give exactly one of --in, --text');
    usage(() => exactlyOne({ '--in': undefined, '--text': undefined }));
  });
});
