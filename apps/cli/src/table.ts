/**
 * Tables that fit the terminal (terminal.ts): columns keep their natural width when the table fits,
 * otherwise the widest columns are narrowed (cells wrap) until the table fits `view.columns`. No colour
 * codes unless `view.color`. Every table of the CLI goes through here; new commands should too.
 */
import Table from 'cli-table3';
import { bold, PLAIN_VIEW, type TerminalView } from './terminal';

type Cell = string | number | boolean | null | undefined;

/** Narrowest a column is squeezed to (content width; padding comes on top). */
const MIN_CONTENT = 6;
/** cli-table3 pads each cell with one space left and right. */
const PADDING = 2;

const ANSI = /\u001b\[[0-9;]*m/g;
const widthOf = (s: string): number => Math.max(0, ...s.replace(ANSI, '').split('\n').map((l) => [...l].length));
const text = (c: Cell): string => (c === null || c === undefined ? '' : String(c));

/**
 * Column widths (padding included) so the table is at most `max` characters wide: the natural widths
 * when they fit, else every column wider than a cap is cut to it, with the cap as high as the budget
 * allows (no column narrower than {@link MIN_CONTENT} unless its content is). Exported for the property test.
 */
export function fitColumns(natural: readonly number[], max: number): number[] {
  const n = natural.length;
  const budget = max - (n + 1); // borders
  const widths = natural.map((w) => w + PADDING);
  if (widths.reduce((a, b) => a + b, 0) <= budget) return widths;
  const floor = (w: number): number => Math.min(w, MIN_CONTENT + PADDING);
  let cap = Math.max(...widths);
  const total = (c: number): number => widths.reduce((a, w) => a + Math.max(floor(w), Math.min(w, c)), 0);
  while (cap > MIN_CONTENT + PADDING && total(cap) > budget) cap--;
  const fitted = widths.map((w) => Math.max(floor(w), Math.min(w, cap)));
  // Hand out what the integer cap left over, one column at a time, to columns that were cut.
  let spare = budget - fitted.reduce((a, b) => a + b, 0);
  for (let i = 0; spare > 0 && i < n; i++) if (fitted[i]! < widths[i]!) { fitted[i]!++; spare--; }
  return fitted;
}

/** Breaks `s` into lines of at most `width` characters (at a space when one is near, else mid-word). */
function wrap(s: string, width: number): string {
  return s.split('\n').flatMap((line) => {
    const out: string[] = [];
    let rest = [...line];
    while (rest.length > width) {
      const space = rest.lastIndexOf(' ', width);
      const cut = space > width / 2 ? space : width;
      out.push(rest.slice(0, cut).join('').trimEnd());
      rest = [...rest.slice(cut).join('').trimStart()];
    }
    out.push(rest.join(''));
    return out;
  }).join('\n');
}

function render(head: readonly string[] | undefined, rows: readonly (readonly Cell[])[], view: TerminalView, boldFirstColumn = false): string {
  const cols = Math.max(head?.length ?? 0, ...rows.map((r) => r.length));
  const natural = Array.from({ length: cols }, (_, i) => Math.max(widthOf(head?.[i] ?? ''), ...rows.map((r) => widthOf(text(r[i])))));
  const widths = fitColumns(natural, view.columns);
  // Cells are wrapped here, on plain text, and styled afterwards: cli-table3's own wrapping counts
  // ANSI codes as characters and can cut one in half.
  const cell = (c: Cell, i: number, strong: boolean): string => {
    const wrapped = wrap(text(c), widths[i]! - PADDING);
    return strong ? wrapped.split('\n').map((l) => bold(view, l)).join('\n') : wrapped;
  };
  const t = new Table({ ...(head ? { head: head.map((h, i) => cell(h, i, true)) } : {}), colWidths: widths, style: { head: [], border: [] } });
  for (const r of rows) t.push(Array.from({ length: cols }, (_, i) => cell(r[i], i, boldFirstColumn && i === 0)));
  return t.toString();
}

/** A table with a heading row, without the trailing newline (callers add theirs). */
export function renderTable(head: readonly string[], rows: readonly (readonly Cell[])[], view: TerminalView = PLAIN_VIEW): string {
  return render(head, rows, view);
}

/** A two-column `name | value` table (one thing's properties), without the trailing newline. */
export function renderProperties(rows: readonly (readonly [string, Cell])[], view: TerminalView = PLAIN_VIEW): string {
  return render(undefined, rows, view, true);
}
