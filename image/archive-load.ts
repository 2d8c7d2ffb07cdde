/**
 * `tbuild load`: reads an image archive as a stream and adds its images to the store.
 *
 * Accepted: `docker save` archives (manifest.json + repositories + `<id>/layer.tar` or, from
 * Docker 25, `blobs/sha256/…`; and the pre-1.10 layout with only `repositories` and
 * `<id>/json` parent chains), and OCI image layouts packed as tar (oci-layout + index.json +
 * blobs). Either may be gzipped. The archive is never held in memory: a tar's manifest.json may
 * come after the layers, so every regular file is spooled into the store as a blob while it
 * streams by (small JSON files are kept in memory), and the images are assembled at the end.
 * Tags are committed only once every blob is verified; on failure, the spooled blobs are removed
 * again so the store is as it was.
 */
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import tar from 'tar-stream';
import { type ArchiveContents, type LoadedImage, normalizeArchivePath } from './archive-contents.ts';
import { assembleDockerImages, assembleLegacyDockerImages } from './archive-docker.ts';
import { assembleOciImages } from './archive-oci.ts';
import { StoreError } from './errors.ts';
import type { Digest } from './oci.ts';
import type { ImageStore } from './store.ts';

const smallLimit = 8 << 20;
const smallNames = new Set(['manifest.json', 'repositories', 'index.json', 'oci-layout', 'VERSION', 'json']);

function isSmall(path: string, size: number): boolean {
  const base = path.slice(path.lastIndexOf('/') + 1);
  return size <= smallLimit && (smallNames.has(base) || base.endsWith('.json'));
}

/** Wraps low-level stream errors into one-line StoreErrors that name the archive. */
function describeError(error: unknown, name: string): StoreError {
  if (error instanceof StoreError) return new StoreError(`${name}: ${error.message}`);
  const e = error as NodeJS.ErrnoException;
  if (e.code === 'ENOENT') return new StoreError(`open ${name}: no such file or directory`);
  if (e.code === 'Z_DATA_ERROR' || e.code === 'Z_BUF_ERROR' || /unexpected end of file/i.test(e.message)) {
    return new StoreError(`${name}: corrupt or truncated gzip data (${e.message})`);
  }
  if (/unexpected end of data|invalid tar header|premature close/i.test(e.message)) {
    return new StoreError(`${name}: archive is truncated or not a tar file (${e.message})`);
  }
  return new StoreError(`${name}: ${e.message ?? String(error)}`);
}

/** Yields the input with the gzip layer removed when the first two bytes are the gzip magic. */
async function* ungzipIfNeeded(input: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
  const it = input[Symbol.asyncIterator]();
  const first = await it.next();
  if (first.done) return;
  const head = first.value;
  async function* all(): AsyncGenerator<Uint8Array> {
    yield head;
    for (let r = await it.next(); !r.done; r = await it.next()) yield r.value;
  }
  if (head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b) {
    const gunzip = createGunzip();
    const feed = pipeline(all(), gunzip).catch((e: unknown) => {
      gunzip.destroy(e as Error);
    });
    for await (const chunk of gunzip) yield chunk as Buffer;
    await feed;
  } else {
    yield* all();
  }
}

/** Spools every entry of the tar stream (see the file comment). */
async function spoolArchive(store: ImageStore, input: AsyncIterable<Uint8Array>): Promise<ArchiveContents> {
  const contents: ArchiveContents = { blobs: new Map(), small: new Map(), links: new Map(), store };
  const extract = tar.extract();
  const feed = pipeline(ungzipIfNeeded(input), extract);
  let feedError: unknown;
  feed.catch((e: unknown) => {
    feedError = e;
  });
  let entries = 0;
  for await (const entry of extract) {
    entries++;
    const h = entry.header;
    const path = normalizeArchivePath(h.name);
    if (h.type === 'symlink' && h.linkname) {
      const dir = path.includes('/') ? path.slice(0, path.lastIndexOf('/') + 1) : '';
      contents.links.set(
        path,
        normalizeArchivePath(h.linkname.startsWith('/') ? h.linkname : dir + h.linkname),
      );
      entry.resume();
    } else if (h.type === 'link' && h.linkname) {
      contents.links.set(path, normalizeArchivePath(h.linkname));
      entry.resume();
    } else if (h.type === 'file' || h.type === 'contiguous-file') {
      const size = h.size ?? 0;
      if (isSmall(path, size)) {
        const chunks: Buffer[] = [];
        for await (const c of entry) chunks.push(c as Buffer);
        contents.small.set(path, Buffer.concat(chunks));
      } else {
        const m = /^blobs\/sha256\/([a-f0-9]{64})$/.exec(path);
        const options = m ? { digest: `sha256:${m[1]}` as Digest, size, what: path } : { size, what: path };
        contents.blobs.set(
          path,
          await store.putBlob(entry as unknown as AsyncIterable<Uint8Array>, {
            ...options,
            computeDiffId: true,
          }),
        );
      }
    } else {
      entry.resume();
    }
  }
  await feed.catch(() => {});
  if (feedError) throw feedError;
  if (entries === 0) throw new StoreError('archive is empty');
  return contents;
}

/**
 * Loads every image of the archive into the store and commits its tags. Returns the images in
 * archive order. Throws a one-line StoreError (after undoing the spooling) on any problem.
 */
export async function loadArchive(
  store: ImageStore,
  input: AsyncIterable<Uint8Array>,
  name: string,
): Promise<LoadedImage[]> {
  try {
    const contents = await spoolArchive(store, input);
    let images: LoadedImage[];
    if (contents.small.has('manifest.json')) images = await assembleDockerImages(contents);
    else if (contents.small.has('index.json')) images = await assembleOciImages(contents);
    else if (contents.small.has('repositories')) images = await assembleLegacyDockerImages(contents);
    else
      throw new StoreError('neither manifest.json nor index.json found: not a docker or OCI image archive');
    if (images.length === 0) throw new StoreError('archive contains no images');
    await store.commitImages(
      images.map((i) => ({ descriptor: i.descriptor, tags: i.tags })),
      { verifyLayers: true },
    );
    await store.discardUnreferenced();
    return images;
  } catch (error) {
    await store.discardUnreferenced();
    throw describeError(error, name);
  }
}
