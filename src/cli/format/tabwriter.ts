/**
 * Go's text/tabwriter as docker configures it (minwidth 10, tabwidth 1, padding 3, ' ',
 * no flags): cells end at '\t'; a column is aligned over each run of consecutive lines
 * that have a cell in it; the text after a line's last tab is not aligned.
 */
export interface TabOptions { minWidth?: number; padding?: number }

export function tabwrite(text: string, o: TabOptions = {}): string {
  const minWidth = o.minWidth ?? 10, padding = o.padding ?? 3;
  const endsNl = text.endsWith('\n');
  const lines = (endsNl ? text.slice(0, -1) : text).split('\n').map((l) => l.split('\t'));
  const width = (s: string) => [...s].length;
  const widths: number[] = [];
  const out: string[] = [];

  const writeLines = (from: number, to: number) => {
    for (let i = from; i < to; i++) {
      const cells = lines[i]!;
      let s = '';
      for (let j = 0; j < cells.length; j++) {
        const c = cells[j]!;
        if (j < widths.length && j < cells.length - 1) s += c + ' '.repeat(Math.max(0, widths[j]! - width(c)));
        else s += c;
      }
      out[i] = s;
    }
  };

  const format = (line0: number, line1: number) => {
    const column = widths.length;
    let pos = line0;
    for (let t = line0; t < line1; t++) {
      if (column >= lines[t]!.length - 1) continue;
      // A cell exists in this column: lines before it are done at the current depth.
      writeLines(pos, t);
      const blockStart = t;
      let w = minWidth;
      for (; t < line1; t++) {
        const cells = lines[t]!;
        if (column >= cells.length - 1) break;
        w = Math.max(w, width(cells[column]!) + padding);
      }
      widths.push(w);
      format(blockStart, t);
      widths.pop();
      pos = t;
      t--; // the for loop's t++ must revisit line t
    }
    writeLines(pos, line1);
  };
  format(0, lines.length);
  return out.join('\n') + (endsNl ? '\n' : '');
}
