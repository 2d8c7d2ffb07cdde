import { TbuildError } from '../../errors.ts';

/**
 * A volume request the user can act on: a bad name, no such volume, a volume in use. Docker's CLI
 * exits 1 for the daemon's error response (`volume create`, `volume rm`, `volume inspect`);
 * `run`/`create` turn it into 125 (create.ts).
 */
export class VolumeError extends TbuildError {
  constructor(message: string, options: { hint?: string; exitCode?: number; cause?: unknown } = {}) {
    super(message, { exitCode: 1, ...options });
  }
}
