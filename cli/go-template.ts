/**
 * The part of Go's text/template that `--format` values use in Docker's documentation and
 * tutorials: `{{.Field}}`, `{{.Field.Sub}}`, `{{json .}}` / `{{json .Field}}`, `{{.Label "k"}}`
 * (a method with one string argument), and Docker's `table` prefix (a header row from the
 * fields' names, columns aligned as tabwriter does). Written here because no maintained npm
 * package implements Go templates; anything else in a template is a usage error, never
 * silently printed as text.
 */
import { UsageError } from '../errors.ts';

type Value = unknown;

/** A row object: plain fields, and methods taking one string (`Label`). */
export type TemplateRow = Record<string, Value | ((arg: string) => Value)>;

const actionPattern = /\{\{-?\s*(.*?)\s*-?\}\}/g;

/** Renders one row with a template (without the `table` prefix). */
export function renderTemplate(template: string, row: TemplateRow): string {
  const text = template.replaceAll('\\t', '\t').replaceAll('\\n', '\n');
  return text.replace(actionPattern, (_, action: string) => stringify(evaluate(action, row)));
}

function evaluate(action: string, row: TemplateRow): Value {
  const words = action.match(/"(?:[^"\\]|\\.)*"|\S+/g) ?? [];
  const [head, ...rest] = words;
  if (head === 'json') return JSON.stringify(evaluate(rest.join(' '), row) ?? null);
  if (head === 'lower' || head === 'upper') {
    const s = String(evaluate(rest.join(' '), row));
    return head === 'lower' ? s.toLowerCase() : s.toUpperCase();
  }
  if (head === '.') return plain(row);
  if (head === undefined || !head.startsWith('.'))
    throw new UsageError(`template: unsupported action: {{${action}}}`);
  let value: Value = row;
  for (const part of head.slice(1).split('.')) {
    if (value === null || typeof value !== 'object' || !(part in (value as object))) {
      throw new UsageError(`template: can't evaluate field ${part}`);
    }
    value = (value as Record<string, Value>)[part];
  }
  if (typeof value === 'function') {
    const arg = rest[0];
    if (arg === undefined || !arg.startsWith('"'))
      throw new UsageError(`template: ${head} needs a string argument`);
    return (value as (a: string) => Value)(JSON.parse(arg) as string);
  }
  return value;
}

/** The row without its methods, as `{{json .}}` shows it. */
function plain(row: TemplateRow): Record<string, Value> {
  return Object.fromEntries(Object.entries(row).filter(([, v]) => typeof v !== 'function'));
}

function stringify(value: Value): string {
  if (value === undefined || value === null) return '<no value>';
  if (typeof value === 'object') {
    if (Array.isArray(value)) return `[${value.map(stringify).join(' ')}]`;
    return `map[${Object.entries(value as object)
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([k, v]) => `${k}:${stringify(v)}`)
      .join(' ')}]`;
  }
  return String(value);
}

/** `table …`: the template after the prefix, and whether a header and alignment are wanted. */
export function splitTableFormat(format: string): { table: boolean; template: string } {
  const m = /^table\s*/.exec(format);
  return m ? { table: true, template: format.slice(m[0].length) } : { table: false, template: format };
}

/** The header row of a `table` template: each field's header, as Docker names it. */
export function templateHeader(template: string, headers: Record<string, string>): string {
  const text = template.replaceAll('\\t', '\t').replaceAll('\\n', '\n');
  return text.replace(actionPattern, (_, action: string) => {
    const field = /\.(\w+)/.exec(action)?.[1] ?? '';
    return headers[field] ?? field.toUpperCase();
  });
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
