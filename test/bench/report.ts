/** One line of the bench table: a figure, its target, and whether it holds. */
export interface Row {
  figure: string;
  value: string;
  target: string;
  /** value/target-basis ratio, when the target is one. */
  ratio?: string;
  /** undefined when there is no target (reported only). */
  ok?: boolean;
}

/** A fixed-width text table, one row per figure, with a verdict column. */
export function renderTable(rows: Row[]): string {
  const header = ['figure', 'value', 'target', 'ratio', 'ok'];
  const cells = rows.map((row) => [row.figure, row.value, row.target, row.ratio ?? '', row.ok === undefined ? '' : row.ok ? 'yes' : 'MISSED']);
  const widths = header.map((title, i) => Math.max(title.length, ...cells.map((line) => line[i].length)));
  const line = (parts: string[]) => `| ${parts.map((part, i) => part.padEnd(widths[i])).join(' | ')} |`;
  return [line(header), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...cells.map(line)].join('\n');
}

/** Milliseconds for the table: 850 ms, 4.21 s. */
export function ms(value: number): string {
  return value < 1000 ? `${Math.round(value)} ms` : `${(value / 1000).toFixed(2)} s`;
}

/** A ratio with two decimals and an x. */
export function times(value: number): string {
  return `${value.toFixed(2)}x`;
}
