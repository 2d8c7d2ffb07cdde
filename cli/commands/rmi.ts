import {
  type Digest,
  familiarString,
  type ImageStore,
  normalizeTag,
  parseReference,
  type StoredImage,
  StoreError,
} from '../../image/index.ts';
import type { Command } from '../command.ts';
import { parseCommandLine } from '../flags.ts';
import { openStore, shortId } from '../image-output.ts';

const usage = `
Usage:  tbuild rmi [OPTIONS] IMAGE [IMAGE...]

Remove one or more images

Options:
  -f, --force      Force removal of the image
      --no-prune   Do not delete untagged parents (accepted for compatibility)
`;

const display = (tag: string) => familiarString(parseReference(tag));

/**
 * Removes one argument, as moby's daemon/images/image_delete.go ImageDelete:
 *  - a tag of an image with other tags only untags;
 *  - the last tag (or an ID) deletes the image;
 *  - an ID whose image is tagged in several repositories is refused unless forced.
 */
async function removeOne(store: ImageStore, arg: string, force: boolean, out: string[]): Promise<void> {
  const matches = await store.find(arg);
  if (matches.length === 0) throw new StoreError(`No such image: ${arg}`);
  const ids = new Set(matches.map((m) => m.id));
  if (ids.size > 1) throw new StoreError(`multiple images match "${arg}": give a longer ID or a tag`);
  let tag: string | undefined;
  try {
    const ref = parseReference(arg);
    if (ref.digest === undefined) {
      const full = normalizeTag(arg);
      if (matches.some((m) => m.tags.includes(full))) tag = full;
    }
  } catch {
    tag = undefined;
  }
  const allTags = matches.flatMap((m) => m.tags);
  if (tag !== undefined) {
    const image = matches.find((m) => m.tags.includes(tag)) as StoredImage;
    const { removedImage } = await store.untag(tag);
    out.push(`Untagged: ${display(tag)}`);
    if (removedImage) await deleteBlobs(store, [image], out);
    return;
  }
  const repos = new Set(allTags.map((t) => parseReference(t).name));
  if (repos.size > 1 && !force) {
    throw new StoreError(
      `conflict: unable to delete ${shortId(matches[0]?.id ?? arg)} (must be forced) - image is referenced in multiple repositories`,
    );
  }
  for (const image of matches) {
    for (const t of await store.deleteImage(image.descriptor.digest)) out.push(`Untagged: ${display(t)}`);
  }
  await deleteBlobs(store, matches, out);
}

async function deleteBlobs(store: ImageStore, images: StoredImage[], out: string[]): Promise<void> {
  const candidates = new Set<Digest>();
  for (const image of images) {
    candidates.add(image.descriptor.digest);
    candidates.add(image.id);
    for (const l of image.manifest.layers) candidates.add(l.digest);
  }
  const removed = new Set(await store.collectGarbage(candidates));
  const id = images[0]?.id;
  if (id !== undefined && (removed.has(id) || !(await store.hasBlob(id)))) out.push(`Deleted: ${id}`);
  for (const image of images) {
    for (const l of image.manifest.layers) {
      if (removed.has(l.digest)) {
        out.push(`Deleted: ${l.digest}`);
        removed.delete(l.digest);
      }
    }
  }
}

/** `tbuild rmi [-f] IMAGE...` (docker rmi). */
export const rmiCommand: Command = {
  summary: 'Remove one or more images',
  async run(ctx) {
    const line = parseCommandLine(ctx, {
      name: 'rmi',
      usage,
      options: { force: { type: 'boolean', short: 'f' }, 'no-prune': { type: 'boolean' } },
      args: { min: 1 },
    });
    if (line === undefined) return 0;
    const { values, positionals } = line;
    const store = await openStore(ctx);
    let failed = 0;
    try {
      for (const arg of positionals) {
        const out: string[] = [];
        try {
          await removeOne(store, arg, values.force ?? false, out);
        } catch (error) {
          if (!(error instanceof StoreError)) throw error;
          // Docker goes on with the other arguments and exits 1 at the end.
          failed++;
          ctx.stderr.write(`Error: ${error.message}\n`);
        }
        for (const line of out) ctx.stdout.write(`${line}\n`);
      }
      return failed > 0 ? 1 : 0;
    } finally {
      await store.close();
    }
  },
};
