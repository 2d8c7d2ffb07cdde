/**
 * Docker's `--format` around a Go template (docker/cli cli/command/formatter/formatter.go): the
 * literal `\t` and `\n` of a shell argument become tab and newline, a `table ` prefix asks for a
 * header row (the template run on the headers, as docker-cli runs it on its header context) and
 * columns aligned as Go's tabwriter does (minwidth 10, padding 3), and each row ends in a newline.
 */
import { parseTemplate, type TemplateOptions } from './go-template.ts';

/** A row: plain fields, and methods taking arguments (`Label`). */
export type TemplateRow = Record<string, unknown>;

/** Docker's escapes: the two characters `\t` become a tab, `\n` a newline. */
export function unescapeFormat(format: string): string {
  return format.replaceAll('\\t', '\t').replaceAll('\\n', '\n');
}

/** `table …`: the template after the prefix, and whether a header and alignment are wanted. */
export function splitTableFormat(format: string): { table: boolean; template: string } {
  const m = /^table(\s+|$)/.exec(format);
  return m ? { table: true, template: format.slice(m[0].length) } : { table: false, template: format };
}

/** Aligns tab-separated lines as Go's tabwriter does for Docker (minwidth 10, padding 3). */
export function alignTabs(lines: string[]): string {
  const rows = lines.map((l) => l.split('\t'));
  const widths: number[] = [];
  for (const row of rows) {
    row.forEach((cell, i) => {
      if (i < row.length - 1) widths[i] = Math.max(widths[i] ?? 0, [...cell].length + 3, 10);
    });
  }
  return rows
    .map(
      (row) =>
        `${row.map((cell, i) => (i < row.length - 1 ? cell.padEnd(widths[i] ?? 0) : cell)).join('')}\n`,
    )
    .join('');
}

/** What `formatRows` needs besides the rows. */
export interface RowFormat {
  /** The user's `--format` value (with `table` and the `\t` escapes, as typed). */
  format: string;
  /** Docker's header for each field (`ID` → `IMAGE ID`). */
  headers: Record<string, string>;
  /** The Go type Docker's rows have, for its "can't evaluate field" error. */
  structType?: string;
}

/** The output of `--format` for these rows (throws TemplateError for a bad template). */
export function formatRows(rows: TemplateRow[], spec: RowFormat, options: TemplateOptions = {}): string {
  const { table, template } = splitTableFormat(unescapeFormat(spec.format.trim()));
  const parsed = parseTemplate(
    template,
    spec.structType === undefined ? options : { ...options, structType: spec.structType },
  );
  const lines = rows.map((row) => parsed.execute(row));
  if (!table) return lines.map((l) => `${l}\n`).join('');
  const header = parseTemplate(template, { header: true }).execute(headerRow(spec.headers));
  return alignTabs([header, ...lines].flatMap((l) => l.split('\n')));
}

/**
 * The row a `table` header is made from: each field's header name, an unknown one upper-cased;
 * a method (`.Label "k"`) gives its header too, whatever its arguments.
 */
function headerRow(headers: Record<string, string>): TemplateRow {
  const name = (key: string | symbol) => {
    if (typeof key !== 'string') return undefined;
    const text = headers[key] ?? key.toUpperCase();
    return () => text;
  };
  return new Proxy(headers, {
    get: (_, key) => name(key),
    has: () => true,
    getOwnPropertyDescriptor: (_, key) => ({ configurable: true, enumerable: true, value: name(key) }),
  });
}

/** Renders one row with a template (without the `table` prefix). */
export function renderTemplate(template: string, row: TemplateRow): string {
  return parseTemplate(unescapeFormat(template)).execute(row);
}

/** The header row of a `table` template: each field's header, as Docker names it. */
export function templateHeader(template: string, headers: Record<string, string>): string {
  return parseTemplate(unescapeFormat(template), { header: true }).execute(headerRow(headers));
}
