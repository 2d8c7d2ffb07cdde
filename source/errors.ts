import { TbuildError } from '../errors.ts';

/**
 * A build input from outside could not be had: a git repository, ref or subdirectory, a context
 * archive or URL, an ssh agent. The message names the input (credentials in URLs redacted).
 */
export class SourceError extends TbuildError {
  constructor(message: string, options: { hint?: string; cause?: unknown } = {}) {
    super(message, options);
  }
}
