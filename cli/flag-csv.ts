import { CsvError, splitCsvFields } from '../csv-fields.ts';
import { UsageError } from '../errors.ts';

/** A flag's CSV value (`-o`, `--cache-to`) split into fields; a malformed one is a usage error. */
export function flagFields(value: string, flag: string): string[] {
  try {
    return splitCsvFields(value);
  } catch (error) {
    if (error instanceof CsvError) throw new UsageError(`invalid ${flag} value "${value}": ${error.message}`);
    throw error;
  }
}
