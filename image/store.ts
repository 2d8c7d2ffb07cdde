/**
 * The local image store: an OCI image layout on disk. `ImageStore` is the one façade every caller
 * uses; each job is its own module:
 *
 *   store-layout.ts       the paths below, the tbuild root, the store lock
 *   store-blobs.ts        content: writing, reading and verifying blobs
 *   store-leases.ts       the blobs a live process wrote and has not referenced yet
 *   store-layer-sizes.ts  the recorded unpacked size of each layer blob
 *   store-tags.ts         references: index.json and the tags in it
 *   store-complete.ts     what must hold before a tag may point at an image
 *   store-lookup.ts       finding images by reference or ID
 *   store-gc.ts           garbage: unreferenced blobs, dead writers' temp files
 *   store-fsck.ts         checking the store; store-usage.ts: its disk usage
 *
 *   <root>/image/oci-layout            {"imageLayoutVersion":"1.0.0"}
 *   <root>/image/index.json            one entry per (manifest, tag); see store-tags.ts
 *   <root>/image/blobs/sha256/<hex>    manifests, configs, layers (content-addressed)
 *   <root>/image/tmp/<owner>-<rand>    blobs being written (owner = pid.starttime; removed once it is dead)
 *   <root>/image/leases/<owner>-<rand> digests written by a live process not yet referenced
 *   <root>/image/sizes/<hex>           a layer blob's unpacked size (Docker's SIZE, layer-size.ts),
 *                                      recorded when the layer is made or arrives; by content
 *                                      digest, so never stale (removed with its blob)
 *   <root>/image/lock                  flock'd around index.json updates and garbage collection
 *
 * Image ID = config digest, as in Docker.
 *
 * Crash safety: blobs are written to tmp/, hashed while written, verified, fsynced and renamed
 * into blobs/; `index.json` is replaced by rename. A tag is committed only after every blob it
 * needs is in place, so a killed process leaves at worst unreferenced blobs and temp files,
 * which opening the store (temps), `fsck` and `gc` (blobs) remove. Blobs written but not yet
 * referenced are protected from a concurrent `gc` by the writer's lease file (pid liveness: a
 * reused pid only delays collection, the safe direction).
 */
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from './blob-io.ts';
import { StoreError } from './errors.ts';
import { type Descriptor, type Digest, type ImageConfig, type Manifest, MediaType } from './oci.ts';
import { type BlobInfo, BlobStore, type PutBlobOptions } from './store-blobs.ts';
import { checkComplete } from './store-complete.ts';
import { type FsckReport, fsck } from './store-fsck.ts';
import { collectGarbage, removeStaleTemps } from './store-gc.ts';
import { layerSize, recordLayerSize } from './store-layer-sizes.ts';
import { makeStoreDirs, resolveRoot, type StoreLayout, storeLayout } from './store-layout.ts';
import { Lease } from './store-leases.ts';
import { findImages, listImages, resolveImage, type StoredImage } from './store-lookup.ts';
import {
  type CommitRequest,
  commitTags,
  deleteImage,
  ensureIndex,
  normalizeTag,
  stripAnnotations,
  untag,
} from './store-tags.ts';
import { type DiskUsage, diskUsage } from './store-usage.ts';

// The façade's contract types and helpers, where every caller has always found them.
export type { BlobInfo, CommitRequest, DiskUsage, FsckReport, PutBlobOptions, StoredImage };
export { normalizeTag, resolveRoot };

/** How `commitImages` treats the images it is given. */
export interface CommitOptions {
  /**
   * The images come from outside (load, import, pull): unpack every layer into its snapshot
   * before any tag points at it, so a layer that can never be applied (a hardlink through a
   * symlink, a `..` name, a truncated gzip, content that is not its config's diffID) is refused
   * here with the cause and the store left as it was, as Docker's load refuses it while applying
   * each layer to its graph driver, instead of failing the first build or run that uses it.
   */
  verifyLayers?: boolean;
}

/** The image store at `<root>/image`. Open with `ImageStore.open`; call `close()` when done. */
export class ImageStore {
  /** Directory of the OCI image layout. */
  readonly dir: string;
  readonly #layout: StoreLayout;
  readonly #lease: Lease;
  readonly #blobs: BlobStore;

  private constructor(dir: string) {
    this.dir = dir;
    this.#layout = storeLayout(dir);
    this.#lease = new Lease(this.#layout.leaseDir);
    this.#blobs = new BlobStore(this.#layout, this.#lease);
  }

  /** Opens (creating if needed) the store under the tbuild root (see `resolveRoot`). */
  static async open(root?: string): Promise<ImageStore> {
    const store = new ImageStore(join(resolveRoot(root), 'image'));
    await store.#init();
    return store;
  }

  async #init(): Promise<void> {
    const layout = this.#layout;
    await makeStoreDirs(layout);
    // What a killed writer left (a pull or load killed mid-layer: partial blobs of any size) goes
    // as soon as any command opens the store, not only at the next fsck. One readdir when empty.
    await removeStaleTemps(layout);
    const marker = join(layout.dir, 'oci-layout');
    try {
      await stat(marker);
    } catch {
      await writeFileAtomic(marker, '{"imageLayoutVersion":"1.0.0"}', layout.tmpDir);
    }
    await ensureIndex(layout);
  }

  /** Removes this process's lease. Blobs it wrote and did not reference become garbage. */
  async close(): Promise<void> {
    await this.#lease.release();
  }

  // ---- content (store-blobs.ts, store-layer-sizes.ts)

  blobPath(digest: Digest): string {
    return this.#blobs.blobPath(digest);
  }

  hasBlob(digest: Digest): Promise<boolean> {
    return this.#blobs.hasBlob(digest);
  }

  /**
   * Streams `source` into the store. The content is hashed while written, checked against
   * `options.digest`/`size`, fsynced and renamed into place. On any failure nothing is added.
   */
  putBlob(source: AsyncIterable<Uint8Array> | Uint8Array, options: PutBlobOptions = {}): Promise<BlobInfo> {
    return this.#blobs.putBlob(source, options);
  }

  /** A stream of the blob's bytes that errors at the end if they do not match the digest. */
  getBlob(digest: Digest, size?: number): NodeJS.ReadableStream {
    return this.#blobs.getBlob(digest, size);
  }

  /** Reads a small blob whole (manifests, configs), verified. */
  readBlob(digest: Digest): Promise<Buffer> {
    return this.#blobs.readBlob(digest);
  }

  readManifest(digest: Digest): Promise<Manifest> {
    return this.#blobs.readManifest(digest);
  }

  /** Records a layer blob's unpacked size (layer-size.ts), once: the content decides it. */
  recordLayerSize(digest: Digest, unpackedSize: number): void {
    recordLayerSize(this.#layout, digest, unpackedSize);
  }

  /** A layer blob's unpacked size, Docker's SIZE; undefined when the blob is missing or no tar. */
  layerSize(digest: Digest): Promise<number | undefined> {
    return layerSize(this.#layout, digest);
  }

  /** How many blobs this instance has added to the store (kept or not). */
  get blobsAdded(): number {
    return this.#blobs.blobsAdded;
  }

  // ---- images and tags (store-tags.ts, store-complete.ts)

  /**
   * Writes a config and an OCI manifest for layers already in the store, and tags the result.
   * This is what a build calls at the end. Returns the manifest descriptor.
   */
  async putImage(
    image: { config: ImageConfig; layers: Descriptor[] },
    tags: string[],
    options: CommitOptions = {},
  ): Promise<Descriptor> {
    if (image.config.rootfs.diff_ids.length !== image.layers.length) {
      throw new StoreError(
        `image has ${image.layers.length} layers but its config lists ${image.config.rootfs.diff_ids.length} diff_ids`,
      );
    }
    for (const layer of image.layers) {
      if (!(await this.hasBlob(layer.digest)))
        throw new StoreError(`layer ${layer.digest} is not in the store`);
    }
    const configBlob = await this.putBlob(Buffer.from(JSON.stringify(image.config)), {
      what: 'image config',
    });
    const descriptor = await this.putManifest(
      { mediaType: MediaType.ociConfig, digest: configBlob.digest, size: configBlob.size },
      image.layers,
    );
    await this.commitImages([{ descriptor, tags: tags.map(normalizeTag) }], options);
    return descriptor;
  }

  /** Writes an OCI image manifest for a config and layers; returns its descriptor. */
  async putManifest(config: Descriptor, layers: Descriptor[]): Promise<Descriptor> {
    const manifest: Manifest = {
      schemaVersion: 2,
      mediaType: MediaType.ociManifest,
      config: stripAnnotations(config),
      layers: layers.map(stripAnnotations),
    };
    const blob = await this.putBlob(Buffer.from(JSON.stringify(manifest)), { what: 'manifest' });
    return { mediaType: MediaType.ociManifest, digest: blob.digest, size: blob.size };
  }

  /**
   * Points tags at manifests already in the store, all in one index update under the lock.
   * Checks first that every manifest, config and layer blob is present.
   */
  async commitImages(requests: CommitRequest[], options: CommitOptions = {}): Promise<void> {
    for (const r of requests)
      await checkComplete(this.#layout, this.#blobs, r.descriptor, options.verifyLayers === true);
    await commitTags(this.#layout, requests);
  }

  /** Adds a tag to an existing image (`ref` resolved as in `resolve`). */
  async tag(source: string, target: string): Promise<void> {
    const image = await this.resolve(source);
    await this.commitImages([{ descriptor: image.descriptor, tags: [normalizeTag(target)] }]);
  }

  /**
   * Removes one tag. When it was the image's last tag and `keepDangling` is false, the image's
   * index entry goes too and its manifest digest is returned (call `collectGarbage` next).
   */
  untag(ref: string, keepDangling = false): Promise<{ manifest: Digest; removedImage: boolean }> {
    return untag(this.#layout, ref, keepDangling);
  }

  /** Removes every index entry of a manifest (all its tags). Blobs go at the next `collectGarbage`. */
  deleteImage(manifest: Digest): Promise<string[]> {
    return deleteImage(this.#layout, manifest);
  }

  // ---- lookup (store-lookup.ts)

  /** Every image in the store, one per manifest, newest first. */
  listImages(): Promise<StoredImage[]> {
    return listImages(this.#layout, this.#blobs);
  }

  /**
   * Finds an image by reference or ID, as `docker image inspect` does: a full ID, a tag, a digest
   * reference or an unambiguous ID prefix. Throws `No such image: …` otherwise.
   */
  resolve(refOrId: string): Promise<StoredImage> {
    return resolveImage(this.#layout, this.#blobs, refOrId);
  }

  /** Like `resolve`, but returns every manifest that matches (an ID may have several manifests). */
  find(refOrId: string): Promise<StoredImage[]> {
    return findImages(this.#layout, this.#blobs, refOrId);
  }

  // ---- garbage, checks, usage (store-gc.ts, store-fsck.ts, store-usage.ts)

  /**
   * Removes blobs nothing references (no index entry reaches them, no live lease holds them).
   * `only` limits the candidates (used to undo a failed load). Returns the removed digests.
   */
  collectGarbage(only?: Iterable<Digest>): Promise<Digest[]> {
    return collectGarbage(this.#layout, this.#blobs, this.#lease, only);
  }

  /** Removes the blobs this instance added that ended up unreferenced (after a failure, or spooled extras). */
  async discardUnreferenced(): Promise<Digest[]> {
    const candidates = this.#blobs.takeCreated();
    if (candidates.length === 0) return [];
    return this.collectGarbage(candidates);
  }

  /**
   * Verifies every blob against its digest and every reference from the index; removes stale
   * temp files, stale leases and unreferenced blobs. Corrupt blobs are reported, not removed.
   */
  fsck(): Promise<FsckReport> {
    return fsck(this.#layout, this.#blobs, this.#lease);
  }

  /** Disk usage of the store. */
  diskUsage(): Promise<DiskUsage> {
    return diskUsage(this.#layout, this.#blobs);
  }
}
