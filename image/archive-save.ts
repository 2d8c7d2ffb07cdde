/**
 * `tbuild save`: picks the images and tags to write, as `docker save` does, and writes a docker
 * or OCI archive. Which tags go into the archive:
 *   - `name:tag`            that tag;
 *   - `name` (no tag)       every tag of that repository, one entry per image;
 *   - an ID or `name@digest`  no tags (the archive loads as an untagged image).
 */
import { type SaveRequest, writeDockerArchive } from './archive-docker.ts';
import { writeOciArchive } from './archive-oci.ts';
import { createTarWriter } from './archive-write.ts';
import type { Digest } from './oci.ts';
import { parseReference } from './reference.ts';
import type { ImageStore } from './store.ts';

export type ArchiveFormat = 'docker' | 'oci';

/** Resolves `docker save` arguments to images and the tags each carries into the archive. */
export async function selectImages(store: ImageStore, names: string[]): Promise<SaveRequest[]> {
  const byManifest = new Map<Digest, SaveRequest>();
  const add = (req: SaveRequest) => {
    const seen = byManifest.get(req.image.descriptor.digest);
    if (!seen) byManifest.set(req.image.descriptor.digest, { image: req.image, tags: [...req.tags] });
    else for (const t of req.tags) if (!seen.tags.includes(t)) seen.tags.push(t);
  };
  for (const name of names) {
    let ref: ReturnType<typeof parseReference> | undefined;
    try {
      ref = parseReference(name);
    } catch {
      ref = undefined;
    }
    if (ref && ref.tag === undefined && ref.digest === undefined) {
      const repoImages = (await store.listImages()).filter((i) =>
        i.tags.some((t) => t.startsWith(`${ref.name}:`)),
      );
      if (repoImages.length > 0) {
        for (const image of repoImages)
          add({ image, tags: image.tags.filter((t) => t.startsWith(`${ref.name}:`)) });
        continue;
      }
    }
    const image = await store.resolve(name);
    const tag = ref?.tag !== undefined && ref.digest === undefined ? `${ref.name}:${ref.tag}` : undefined;
    add({ image, tags: tag !== undefined && image.tags.includes(tag) ? [tag] : [] });
  }
  return [...byManifest.values()];
}

/** Streams an archive of the images to `out`. */
export async function writeArchive(
  store: ImageStore,
  requests: SaveRequest[],
  format: ArchiveFormat,
  out: NodeJS.WritableStream,
): Promise<void> {
  const tar = createTarWriter(out);
  if (format === 'oci') await writeOciArchive(store, requests, tar);
  else await writeDockerArchive(store, requests, tar);
  await tar.finish();
}
