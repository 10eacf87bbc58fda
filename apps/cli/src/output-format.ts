/**
 * `--output json|yaml|table` (`--json` = `--output json`): one document per command on stdout in the
 * chosen format; errors go to stderr as one `{code, message}` document in the same format (plain
 * `ekm: CODE: message` for tables). Pure: tests check strings.
 */
import { stringify as yamlStringify } from 'yaml';
import { usageError } from './cli-error';

export const OUTPUT_FORMATS = ['table', 'json', 'yaml'] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

/** Whether the format is for scripts (exactly one parseable document, no progress bars). */
export const isMachineFormat = (f: OutputFormat): boolean => f !== 'table';

/** Validates an `--output` value. @throws CliError EKM_CLI_USAGE */
export function parseOutputFormat(value: string): OutputFormat {
  if ((OUTPUT_FORMATS as readonly string[]).includes(value)) return value as OutputFormat;
  throw usageError(`--output ${value}: must be one of ${OUTPUT_FORMATS.join(', ')}`);
}

/** The format of a parsed command line; `--json` with another `--output` is a contradiction. */
export function formatOf(o: { json?: boolean; output?: OutputFormat }): OutputFormat {
  if (o.json && o.output !== undefined && o.output !== 'json') throw usageError(`--json and --output ${o.output} contradict each other; give one`);
  return o.json ? 'json' : o.output ?? 'table';
}

/**
 * The format from raw argv, before commander has parsed it (errors of the parse itself must be printed
 * in the format asked for). Invalid or contradictory values fall back to what can be told.
 */
export function formatOfArgv(argv: readonly string[]): OutputFormat {
  if (argv.includes('--json')) return 'json';
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const v = a === '--output' || a === '-o' ? argv[i + 1] : a.startsWith('--output=') ? a.slice('--output='.length) : undefined;
    if (v !== undefined && (OUTPUT_FORMATS as readonly string[]).includes(v)) return v as OutputFormat;
    if (a === '--') break;
  }
  return 'table';
}

/** Stable JSON text of one document (two-space indent, trailing newline). */
export const jsonDocument = (value: unknown): string => `${JSON.stringify(value, null, 2)}\n`;

/** One YAML document (block style; strings that look like numbers or booleans are quoted). */
export const yamlDocument = (value: unknown): string => yamlStringify(value, { lineWidth: 0 });

/** `value` as one document in a machine format. */
export function machineDocument(format: Exclude<OutputFormat, 'table'>, value: unknown): string {
  return format === 'json' ? jsonDocument(value) : yamlDocument(value);
}

/** The error as people see it (`ekm: EKM_KEY_NOT_FOUND: key ... does not exist`) or as scripts parse it. */
export function formatError(code: string, message: string, format: OutputFormat | boolean): string {
  const f: OutputFormat = format === true ? 'json' : format === false ? 'table' : format;
  if (f === 'json') return `${JSON.stringify({ code, message })}\n`;
  if (f === 'yaml') return yamlDocument({ code, message });
  return `ekm: ${code}: ${message}\n`;
}
