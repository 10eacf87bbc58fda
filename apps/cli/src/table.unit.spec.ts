import fc from 'fast-check';
import { fitColumns, renderProperties, renderTable } from './table';
import { terminalView } from './terminal';

const width = (text: string): number => Math.max(...text.split('\n').map((l) => [...l].length));

describe('tables that fit the terminal', () => {
  it('keep natural widths when they fit', () => {
    expect(fitColumns([3, 5], 100)).toEqual([5, 7]);
    expect(renderTable(['a', 'b'], [['x', 'y']])).toBe(['┌───┬───┐', '│ a │ b │', '├───┼───┤', '│ x │ y │', '└───┴───┘'].join('\n'));
  });

  it('property: any table is at most the terminal width (down to the narrowest it can be) and loses no character', () => {
    const cell = fc.string({ unit: fc.constantFrom('a', 'b', 'c', '-', '1', ' ', '/'), maxLength: 120 });
    fc.assert(fc.property(fc.integer({ min: 1, max: 8 }), fc.array(fc.array(cell, { minLength: 8, maxLength: 8 }), { maxLength: 6 }), fc.integer({ min: 20, max: 200 }),
      (cols, rawRows, columns) => {
        const head = Array.from({ length: cols }, (_, i) => `h${i}`);
        const rows = rawRows.map((r) => r.slice(0, cols));
        const text = renderTable(head, rows, { columns, color: false });
        const narrowest = cols * (6 + 2) + cols + 1;
        expect(width(text)).toBeLessThanOrEqual(Math.max(columns, narrowest));
        const letters = (s: string): string => s.replace(/[^abc1/-]/g, '');
        expect(letters(text).length).toBe(letters(head.join('') + rows.flat().join('')).length);
      }), { numRuns: 150 });
  });

  it('colour only when the view allows it: bold headings, never in pipes', () => {
    expect(renderTable(['key'], [['k']], { columns: 80, color: true })).toContain('\u001b[1mkey\u001b[22m');
    expect(renderProperties([['Key id', 'k']], { columns: 80, color: false })).not.toMatch(/\u001b\[/);
  });
});

describe('terminalView', () => {
  it('a pipe: 100 columns, no colour (COLUMNS may set the width)', () => {
    expect(terminalView({}, undefined)).toEqual({ columns: 100, color: false });
    expect(terminalView({ COLUMNS: '60' }, { isTTY: false })).toEqual({ columns: 60, color: false });
  });
  it('a TTY: its width and colour, unless NO_COLOR or TERM=dumb; FORCE_COLOR forces it', () => {
    expect(terminalView({}, { isTTY: true, columns: 132 })).toEqual({ columns: 132, color: true });
    expect(terminalView({ NO_COLOR: '1' }, { isTTY: true, columns: 132 }).color).toBe(false);
    expect(terminalView({ NO_COLOR: '1', FORCE_COLOR: '1' }, { isTTY: true }).color).toBe(false);
    expect(terminalView({ TERM: 'dumb' }, { isTTY: true }).color).toBe(false);
    expect(terminalView({ FORCE_COLOR: '1' }, undefined).color).toBe(true);
  });
});
