import { TbuildError } from '../errors.ts';

/**
 * A failure talking to a registry. The message is one line naming the registry, the step and the
 * reason (`127.0.0.1:5000: push blob sha256:ab12…: 500 Internal Server Error`). `retryable` marks
 * failures worth another attempt (5xx, 429, broken connections); the client's retry loop reads it
 * and the CLI never sees it.
 */
export class RegistryError extends TbuildError {
  readonly retryable: boolean;
  /** From `Retry-After` on a 429/503, in milliseconds. */
  readonly retryAfterMs: number | undefined;

  constructor(
    message: string,
    options: { hint?: string; cause?: unknown; retryable?: boolean; retryAfterMs?: number } = {},
  ) {
    super(message, options);
    this.retryable = options.retryable ?? false;
    this.retryAfterMs = options.retryAfterMs;
  }
}
