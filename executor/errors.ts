import { TbuildError } from '../errors.ts';

/**
 * The sandbox could not run the process: runc missing or failing, a USER that does not resolve,
 * a bad working directory. A process that runs and exits non-zero is NOT an ExecError; the
 * executor returns its exit code and the caller decides.
 */
export class ExecError extends TbuildError {}
