import { TbuildError } from '../../errors.ts';

/**
 * A network or volume request the user can act on: no such network, a name in use, a subnet
 * that overlaps, a port already allocated, a network with active endpoints. Docker's CLI exits 1
 * for a daemon's error response (`network rm`, `volume rm`); `run`/`create` turn it into 125.
 */
export class NetworkError extends TbuildError {
  constructor(message: string, options: { hint?: string; exitCode?: number; cause?: unknown } = {}) {
    super(message, { exitCode: 1, ...options });
  }
}
