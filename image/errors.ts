import { TbuildError } from '../errors.ts';

/**
 * A failure of the image store or of an image archive: a corrupt or truncated archive, a digest
 * mismatch, an unknown media type, an unknown image, an invalid reference, a tag conflict. The
 * message is one line; the store is left as it was before the operation that threw.
 */
export class StoreError extends TbuildError {}
