import { TbuildError } from '../errors.ts';

/**
 * The Dockerfile asks for something that cannot be built: an unknown stage or image, a bad build
 * arg, a COPY that breaks Docker's rules. `location` is `Dockerfile:LINE` when there is one.
 */
export class BuildError extends TbuildError {
  readonly location: string | undefined;

  constructor(message: string, location?: string, options: { hint?: string; cause?: unknown } = {}) {
    super(location ? `${location}: ${message}` : message, options);
    this.location = location;
  }
}
