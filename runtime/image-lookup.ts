import {
  familiarString,
  type ImageStore,
  parseTaggedReference,
  type StoredImage,
  StoreError,
} from '../image/index.ts';
import { RunError } from './errors.ts';

/** The image a container is made from, with Docker's messages when it cannot be found. */
export async function findImage(store: ImageStore, ref: string): Promise<StoredImage> {
  try {
    return await store.resolve(ref);
  } catch (error) {
    if (!(error instanceof StoreError)) throw error;
    if (error.message.startsWith('invalid reference format')) throw new RunError(error.message);
    if (!error.message.startsWith('No such image')) throw new RunError(error.message, { cause: error });
    // Docker prints this, then pulls; tbuild has no registry client for `run` yet.
    let shown = ref;
    try {
      shown = familiarString(parseTaggedReference(ref));
    } catch {}
    throw new RunError(`Unable to find image '${shown}' locally`, {
      hint: 'build it (tbuild build -t NAME DIR) or load it (tbuild load -i IMAGE.tar); tbuild does not pull',
    });
  }
}
