/**
 * What the output may assume about the terminal: how wide tables may be and whether ANSI colour is
 * allowed. Colour only on a TTY, never with `NO_COLOR` (https://no-color.org) or `TERM=dumb`;
 * `FORCE_COLOR=1` turns it on anyway. Width: the TTY's columns, else `COLUMNS`, else 100.
 */

/** Width and colour of stdout as the formatters see them. */
export interface TerminalView {
  readonly columns: number;
  readonly color: boolean;
}

/** Tables for pipes and files: 100 columns, no colour. */
export const PLAIN_VIEW: TerminalView = { columns: 100, color: false };

/** The parts of a stream the CLI looks at (process.stdout in main.ts). */
export interface TtyInfo {
  readonly isTTY?: boolean;
  readonly columns?: number;
}

export function terminalView(env: NodeJS.ProcessEnv, tty: TtyInfo | undefined): TerminalView {
  const isTty = tty?.isTTY === true;
  const forced = env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== '0' && env.FORCE_COLOR !== 'false';
  const color = env.NO_COLOR !== undefined && env.NO_COLOR !== '' ? false : forced || (isTty && env.TERM !== 'dumb');
  const envColumns = Number.parseInt(env.COLUMNS ?? '', 10);
  const columns = isTty && tty?.columns ? tty.columns : Number.isSafeInteger(envColumns) && envColumns >= 20 ? envColumns : PLAIN_VIEW.columns;
  return { columns: Math.max(20, columns), color };
}

/** Bold when colour is allowed (table headings). */
export const bold = (view: TerminalView, s: string): string => (view.color ? `\u001b[1m${s}\u001b[22m` : s);
