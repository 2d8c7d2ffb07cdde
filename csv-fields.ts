/**
 * One CSV record split as buildx and BuildKit read flag values and git URL fragments (`-o`,
 * `--cache-to`, `#ref:subdir` as `##ref=…,subdir=…`): Go's encoding/csv rules, which their csvvalue
 * package follows. Fields split at commas; a field that starts with `"` is quoted, may hold commas,
 * and `""` in it is one `"`; a quote anywhere else is an error. (`-o type=image,"name=a,b"` names
 * the image twice.) A leaf module: callers turn a CsvError into their own error.
 */

/** A record that does not parse, in Go's words (`parse error on line 1, column 7: bare " in …`). */
export class CsvError extends Error {
  readonly reason: string;
  constructor(column: number, reason: string) {
    super(`parse error on line 1, column ${column}: ${reason}`);
    this.reason = reason;
  }
}

export function splitCsvFields(record: string): string[] {
  const fields: string[] = [];
  let i = 0;
  for (;;) {
    let field = '';
    if (record[i] === '"') {
      i++;
      for (;;) {
        if (i >= record.length) throw new CsvError(i + 1, 'extraneous or missing " in quoted-field');
        if (record[i] === '"') {
          if (record[i + 1] === '"') {
            field += '"';
            i += 2;
            continue;
          }
          i++;
          break;
        }
        field += record[i];
        i++;
      }
      if (i < record.length && record[i] !== ',')
        throw new CsvError(i + 1, 'extraneous or missing " in quoted-field');
    } else {
      const end = record.indexOf(',', i);
      field = record.slice(i, end < 0 ? record.length : end);
      const quote = field.indexOf('"');
      if (quote >= 0) throw new CsvError(i + quote + 1, 'bare " in non-quoted-field');
      i += field.length;
    }
    fields.push(field);
    if (i >= record.length) return fields;
    i++; // the comma
  }
}

/** Go's strconv.ParseBool: the value, or undefined when it is none of Go's spellings. */
export function parseGoBool(text: string): boolean | undefined {
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(text)) return true;
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(text)) return false;
  return undefined;
}
