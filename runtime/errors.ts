import { TbuildError } from '../errors.ts';

/**
 * A container could not be run: the image is missing, the command or a flag value is unusable,
 * a bind mount source does not exist. Docker's CLI exits 125 for these (the daemon refused),
 * 126 when the command cannot be invoked and 127 when it is not found; a process that runs and
 * exits non-zero is not a RunError, its code is the run's exit code.
 */
export class RunError extends TbuildError {
  constructor(message: string, options: { hint?: string; exitCode?: number; cause?: unknown } = {}) {
    super(message, { exitCode: 125, ...options });
  }
}

/**
 * A container command failed for a reason the user can act on: no such container, it is not
 * running, it is running and cannot be removed. The Docker CLI exits 1 for these (a daemon error
 * response to `stop`, `rm`, `kill`, `logs`…), unlike `run`/`create` (125, see RunError).
 */
export class ContainerError extends TbuildError {
  constructor(message: string, options: { hint?: string; exitCode?: number; cause?: unknown } = {}) {
    super(message, { exitCode: 1, ...options });
  }
}
