/**
 * Writes images into an OCI image layout directory (image-spec `image-layout.md`), as skopeo's
 * `oci:DIR` transport and BuildKit's client (`-o type=oci,tar=false`) do: blobs already there are
 * kept, new ones appear whole (temp file + rename), and index.json is updated last, in one rename,
 * keeping the entries of other images and replacing those with the same `ref.name`. So a killed
 * write leaves the layout as it was, plus perhaps some unreferenced blobs.
 */
import { createWriteStream } from 'node:fs';
import { mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { SaveRequest } from './archive-docker.ts';
import { blobPath, layoutEntries, ociLayoutFile } from './archive-oci.ts';
import { tempName } from './blob-io.ts';
import { type ImageIndex, isImageIndex, MediaType, parseJsonAs, RefNameAnnotation } from './oci.ts';
import type { ImageStore } from './store.ts';

/** Adds the images to the layout at `dir` (made if missing). */
export async function writeOciLayoutDirectory(
  store: ImageStore,
  requests: SaveRequest[],
  dir: string,
): Promise<void> {
  const blobsDir = join(dir, 'blobs', 'sha256');
  await mkdir(blobsDir, { recursive: true });
  const indexPath = join(dir, 'index.json');
  const existing = await readFile(indexPath).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return undefined;
    throw error;
  });
  const index: ImageIndex = existing
    ? parseJsonAs(existing, isImageIndex, indexPath)
    : { schemaVersion: 2, mediaType: MediaType.ociIndex, manifests: [] };
  const { blobs, manifests } = layoutEntries(requests);
  for (const d of blobs) {
    const path = join(dir, blobPath(d.digest));
    const size = await stat(path).then(
      (s) => s.size,
      () => undefined,
    );
    if (size === d.size) continue;
    const tmp = tempName(blobsDir);
    try {
      await pipeline(store.getBlob(d.digest, d.size), createWriteStream(tmp, { mode: 0o644 }));
      await rename(tmp, path);
    } catch (error) {
      await rm(tmp, { force: true });
      throw error;
    }
  }
  const names = new Set(manifests.map((m) => m.annotations?.[RefNameAnnotation]));
  const kept = index.manifests.filter((m) => {
    const name = m.annotations?.[RefNameAnnotation];
    return name === undefined || !names.has(name);
  });
  await writeFile(join(dir, 'oci-layout'), ociLayoutFile);
  const tmp = tempName(dir);
  await writeFile(tmp, JSON.stringify({ ...index, manifests: [...kept, ...manifests] }));
  await rename(tmp, indexPath).catch(async (error: unknown) => {
    await rm(tmp, { force: true });
    throw error;
  });
}
