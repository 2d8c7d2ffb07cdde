import { TbuildError } from '../errors.ts';

/** An exported cache that cannot be read or written (a damaged layout, a bad option). */
export class CacheError extends TbuildError {}
