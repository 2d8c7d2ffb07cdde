import { UsageError } from '../errors.ts';

/**
 * Splits one CSV record as buildx reads flag values (`-o`, `--cache-to`; Go's encoding/csv rules,
 * which buildx's csvvalue follows): fields split at commas; a field that starts with `"` is
 * quoted, may hold commas, and `""` in it is one `"`; a quote anywhere else is an error.
 * (`-o type=image,"name=a,b"` names the image twice.)
 */
export function splitCsvFields(record: string, flag: string): string[] {
  const fields: string[] = [];
  let i = 0;
  const fail = (why: string): never => {
    throw new UsageError(`invalid ${flag} value "${record}": parse error on line 1, column ${i + 1}: ${why}`);
  };
  for (;;) {
    let field = '';
    if (record[i] === '"') {
      i++;
      for (;;) {
        if (i >= record.length) fail('extraneous or missing " in quoted-field');
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
      if (i < record.length && record[i] !== ',') fail('extraneous or missing " in quoted-field');
    } else {
      const end = record.indexOf(',', i);
      field = record.slice(i, end < 0 ? record.length : end);
      const quote = field.indexOf('"');
      if (quote >= 0) {
        i += quote;
        fail('bare " in non-quoted-field');
      }
      i += field.length;
    }
    fields.push(field);
    if (i >= record.length) return fields;
    i++; // the comma
  }
}
