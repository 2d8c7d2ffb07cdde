/**
 * The local image store: an OCI image layout on disk. `ImageStore` is the one façade every caller
 * uses; its content (blobs, leases, layer sizes) is in store-blobs.ts, store-leases.ts and
 * store-layer-sizes.ts, the paths and the lock in store-layout.ts.
 *
 *   <root>/image/oci-layout            {"imageLayoutVersion":"1.0.0"}
 *   <root>/image/index.json            one entry per (manifest, tag); see below
 *   <root>/image/blobs/sha256/<hex>    manifests, configs, layers (content-addressed)
 *   <root>/image/tmp/<owner>-<rand>    blobs being written (owner = pid.starttime; removed once it is dead)
 *   <root>/image/leases/<owner>-<rand> digests written by a live process not yet referenced
 *   <root>/image/sizes/<hex>           a layer blob's unpacked size (Docker's SIZE, layer-size.ts),
 *                                      recorded when the layer is made or arrives; by content
 *                                      digest, so never stale (removed with its blob)
 *   <root>/image/lock                  flock'd around index.json updates and garbage collection
 *
 * Tags: each `index.json` entry is a manifest descriptor whose `org.opencontainers.image.ref.name`
 * annotation is the FULL normalised reference (`docker.io/library/busybox:latest`), not just the
 * tag as in the image-layout spec's example, because one store holds many repositories. A
 * manifest appears once per tag; an image without tags (dangling, `<none>`) appears once without
 * the annotation. So `skopeo copy oci:<root>/image:docker.io/library/busybox:latest …` works.
 *
 * Image ID = config digest, as in Docker.
 *
 * Crash safety: blobs are written to tmp/, hashed while written, verified, fsynced and renamed
 * into blobs/; `index.json` is replaced by rename. A tag is committed only after every blob it
 * needs is in place, so a killed process leaves at worst unreferenced blobs and temp files,
 * which opening the store (temps), `fsck` and `gc` (blobs) remove. Blobs written but not yet referenced are protected from a concurrent
 * `gc` by the writer's lease file (pid liveness: a reused pid only delays collection, the safe
 * direction).
 */
import { readdir, readFile, rm, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { cacheBlobRoots } from '../cache/index.ts';
import { syncDirSync } from '../files.ts';
import type { HeldLock } from '../locks.ts';
import { isOwnerAlive } from '../processes.ts';
import { hashFile, writeFileAtomic } from './blob-io.ts';
import { StoreError } from './errors.ts';
import { isPrivileged } from './fs-meta.ts';
import {
  classifyMediaType,
  type Descriptor,
  type Digest,
  digestHex,
  type ImageConfig,
  type ImageIndex,
  isDigest,
  isImageConfig,
  isImageIndex,
  isManifest,
  type Manifest,
  MediaType,
  parseJsonAs,
  RefNameAnnotation,
} from './oci.ts';
import { formatReference, type ImageReference, parseReference } from './reference.ts';
import { ensureLayerSnapshots, imageSnapshotLayers } from './rootfs-mount.ts';
import { type BlobInfo, BlobStore, type PutBlobOptions } from './store-blobs.ts';
import { layerSize, recordLayerSize } from './store-layer-sizes.ts';
import {
  blobPath,
  fullDiskError,
  lockStore,
  makeStoreDirs,
  resolveRoot,
  type StoreLayout,
  sizePath,
  storeLayout,
} from './store-layout.ts';
import { Lease, leasedDigests } from './store-leases.ts';

// The façade's contract types and helpers, where every caller has always found them.
export type { BlobInfo, PutBlobOptions };
export { resolveRoot };

/** An image as the store knows it: one manifest, its config, and the tags that point at it. */
export interface StoredImage {
  /** The image ID: the config digest. */
  id: Digest;
  /** Manifest descriptor (without annotations). */
  descriptor: Descriptor;
  manifest: Manifest;
  config: ImageConfig;
  /** The config blob exactly as stored (its digest is `id`). */
  configBytes: Buffer;
  /** Full normalised references, sorted. */
  tags: string[];
  /** Bytes of the manifest, config and layer blobs. */
  size: number;
}

/** A request to record a manifest (already in the store) under some tags. */
export interface CommitRequest {
  descriptor: Descriptor;
  /** Full normalised references; empty for an untagged image. */
  tags: string[];
}

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

/** What `commitImages` changed: tags that moved away from an image that is now dangling. */
export interface CommitResult {
  /** `[tag, previous manifest digest]` for each tag that pointed at another image before. */
  moved: [string, Digest][];
}

/** Findings of `fsck`. `problems` is empty when the store is sound. */
export interface FsckReport {
  blobs: number;
  images: number;
  problems: string[];
  removedTempFiles: number;
  removedBlobs: Digest[];
}

/** Disk usage as `du` reports it. */
export interface DiskUsage {
  images: number;
  blobs: number;
  bytes: number;
  unreferencedBlobs: number;
  unreferencedBytes: number;
  tempFiles: number;
  tempBytes: number;
}

function refName(d: Descriptor): string | undefined {
  return d.annotations?.[RefNameAnnotation];
}

function stripAnnotations(d: Descriptor): Descriptor {
  const out: Descriptor = { mediaType: d.mediaType, digest: d.digest, size: d.size };
  if (d.platform) out.platform = d.platform;
  return out;
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
    await makeStoreDirs(this.#layout);
    // What a killed writer left (a pull or load killed mid-layer: partial blobs of any size) goes
    // as soon as any command opens the store, not only at the next fsck. One readdir when empty.
    await this.removeStaleTemps();
    const layout = join(this.dir, 'oci-layout');
    try {
      await stat(layout);
    } catch {
      await writeFileAtomic(layout, '{"imageLayoutVersion":"1.0.0"}', this.#layout.tmpDir);
    }
    try {
      await stat(join(this.dir, 'index.json'));
    } catch {
      const lock = await this.#lock();
      try {
        await stat(join(this.dir, 'index.json')).catch(() =>
          this.#writeIndex({ schemaVersion: 2, manifests: [] }),
        );
      } finally {
        await lock.release();
      }
    }
  }

  /** Removes this process's lease. Blobs it wrote and did not reference become garbage. */
  async close(): Promise<void> {
    await this.#lease.release();
  }

  #lock(): Promise<HeldLock> {
    return lockStore(this.#layout);
  }

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

  /** Records a layer blob's unpacked size (layer-size.ts), once: the content decides it. */
  recordLayerSize(digest: Digest, unpackedSize: number): void {
    recordLayerSize(this.#layout, digest, unpackedSize);
  }

  /** A layer blob's unpacked size, Docker's SIZE; undefined when the blob is missing or no tar. */
  layerSize(digest: Digest): Promise<number | undefined> {
    return layerSize(this.#layout, digest);
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

  async readIndex(): Promise<ImageIndex> {
    const text = await readFile(join(this.dir, 'index.json'));
    return parseJsonAs(text, isImageIndex, `store index ${join(this.dir, 'index.json')}`);
  }

  async #writeIndex(index: ImageIndex): Promise<void> {
    await writeFileAtomic(join(this.dir, 'index.json'), `${JSON.stringify(index)}\n`, this.#layout.tmpDir);
  }

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
  async commitImages(requests: CommitRequest[], options: CommitOptions = {}): Promise<CommitResult> {
    for (const r of requests) await this.#checkComplete(r.descriptor, options.verifyLayers === true);
    // Nothing to change (a cached rebuild with the same tags): no lock, no index write. A
    // concurrent retag racing this check is ordered after it, as if it came a moment later.
    if (isCommitted(await this.readIndex(), requests)) return { moved: [] };
    const lock = await this.#lock();
    try {
      const index = await this.readIndex();
      const moved: [string, Digest][] = [];
      for (const r of requests) {
        for (const tag of r.tags) {
          const old = index.manifests.find((m) => refName(m) === tag);
          if (old && old.digest !== r.descriptor.digest) moved.push([tag, old.digest]);
          index.manifests = removeTag(index.manifests, tag);
        }
        const plain = stripAnnotations(r.descriptor);
        if (r.tags.length > 0) {
          index.manifests = index.manifests.filter(
            (m) => !(m.digest === plain.digest && refName(m) === undefined),
          );
          for (const tag of r.tags)
            index.manifests.push({ ...plain, annotations: { [RefNameAnnotation]: tag } });
        } else if (!index.manifests.some((m) => m.digest === plain.digest)) {
          index.manifests.push(plain);
        }
      }
      await this.#writeIndex(index);
      return { moved };
    } finally {
      await lock.release();
    }
  }

  async #checkComplete(descriptor: Descriptor, verifyLayers: boolean): Promise<void> {
    if (classifyMediaType(descriptor.mediaType) !== 'manifest') {
      throw new StoreError(`unsupported manifest media type: ${descriptor.mediaType}`);
    }
    const manifest = await this.readManifest(descriptor.digest);
    for (const d of [manifest.config, ...manifest.layers]) {
      if (!(await this.hasBlob(d.digest))) throw new StoreError(`blob ${d.digest} is missing from the store`);
    }
    // Snapshots need root (overlay whiteouts are devices and trusted.* xattrs); an unprivileged
    // store, which can never build or run, keeps its layers as blobs only.
    if (verifyLayers && isPrivileged()) await this.#unpackLayers(manifest);
  }

  /** Unpacks the image's layers into their snapshots (CommitOptions.verifyLayers). */
  async #unpackLayers(manifest: Manifest): Promise<void> {
    const config = parseJsonAs(
      await this.readBlob(manifest.config.digest),
      isImageConfig,
      `config ${manifest.config.digest}`,
    );
    if (config.rootfs.diff_ids.length !== manifest.layers.length)
      throw new StoreError(
        `image ${manifest.config.digest}: ${manifest.layers.length} layers but ${config.rootfs.diff_ids.length} diff_ids in its config`,
      );
    for (const layer of imageSnapshotLayers({ manifest, config })) {
      try {
        await ensureLayerSnapshots(dirname(this.dir), this, [layer]);
      } catch (error) {
        const full = fullDiskError(this.#layout, error);
        if (full) throw full;
        const message = (error as Error).message.replace(/^layer sha256:[a-f0-9]+ /, '');
        throw new StoreError(`layer ${layer.blob.digest}: ${message}`, { cause: error });
      }
    }
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
  async untag(ref: string, keepDangling = false): Promise<{ manifest: Digest; removedImage: boolean }> {
    const tag = normalizeTag(ref);
    const lock = await this.#lock();
    try {
      const index = await this.readIndex();
      const entry = index.manifests.find((m) => refName(m) === tag);
      if (!entry) throw new StoreError(`No such image: ${ref}`);
      index.manifests = index.manifests.filter((m) => refName(m) !== tag);
      const still = index.manifests.some((m) => m.digest === entry.digest);
      if (!still && keepDangling) index.manifests.push(stripAnnotations(entry));
      await this.#writeIndex(index);
      return { manifest: entry.digest, removedImage: !still && !keepDangling };
    } finally {
      await lock.release();
    }
  }

  /** Removes every index entry of a manifest (all its tags). Blobs go at the next `collectGarbage`. */
  async deleteImage(manifest: Digest): Promise<string[]> {
    const lock = await this.#lock();
    try {
      const index = await this.readIndex();
      const tags = index.manifests.filter((m) => m.digest === manifest).map(refName);
      index.manifests = index.manifests.filter((m) => m.digest !== manifest);
      await this.#writeIndex(index);
      return tags.filter((t): t is string => t !== undefined);
    } finally {
      await lock.release();
    }
  }

  /** Every image in the store, one per manifest, newest first. */
  async listImages(): Promise<StoredImage[]> {
    const index = await this.readIndex();
    const byDigest = new Map<Digest, Descriptor[]>();
    for (const m of index.manifests) {
      const list = byDigest.get(m.digest) ?? [];
      list.push(m);
      byDigest.set(m.digest, list);
    }
    const images: StoredImage[] = [];
    for (const entries of byDigest.values()) images.push(await this.#loadImage(entries));
    images.sort(
      (a, b) => (b.config.created ?? '').localeCompare(a.config.created ?? '') || a.id.localeCompare(b.id),
    );
    return images;
  }

  async #loadImage(entries: Descriptor[]): Promise<StoredImage> {
    const first = entries[0] as Descriptor;
    const manifest = await this.readManifest(first.digest);
    const configBytes = await this.readBlob(manifest.config.digest);
    const config = parseJsonAs(configBytes, isImageConfig, `image config ${manifest.config.digest}`);
    const tags = entries
      .map(refName)
      .filter((t): t is string => t !== undefined)
      .sort();
    const size = first.size + manifest.config.size + manifest.layers.reduce((n, l) => n + l.size, 0);
    return {
      id: manifest.config.digest,
      descriptor: stripAnnotations(first),
      manifest,
      config,
      configBytes,
      tags,
      size,
    };
  }

  /**
   * Finds an image by reference or ID, as `docker image inspect` does: a full ID
   * (`sha256:<hex>` or 64 hex), a tag (`busybox` = `docker.io/library/busybox:latest`), a
   * digest reference (`busybox@sha256:…`, matched against manifest digests), or an unambiguous
   * ID prefix. Throws `No such image: …` otherwise.
   */
  async resolve(refOrId: string): Promise<StoredImage> {
    const found = await this.find(refOrId);
    if (found.length === 0) throw new StoreError(`No such image: ${refOrId}`);
    const ids = new Set(found.map((i) => i.id));
    if (ids.size > 1) throw new StoreError(`multiple images match "${refOrId}": give a longer ID or a tag`);
    return found[0] as StoredImage;
  }

  /** Like `resolve`, but returns every manifest that matches (an ID may have several manifests). */
  async find(refOrId: string): Promise<StoredImage[]> {
    const byTag = await this.#findTagged(refOrId);
    if (byTag) return [byTag];
    const images = await this.listImages();
    const id = /^(sha256:)?([a-f0-9]{64})$/.exec(refOrId);
    if (id) return images.filter((i) => i.id === `sha256:${id[2]}`);
    let ref: ImageReference | undefined;
    try {
      ref = parseReference(refOrId);
    } catch (error) {
      if (!/^(sha256:)?[a-f0-9]+$/.test(refOrId)) throw error;
    }
    if (ref) {
      if (ref.digest !== undefined) {
        return images.filter((i) => i.descriptor.digest === ref.digest || i.id === ref.digest);
      }
      const tag = formatReference({ ...ref, tag: ref.tag ?? 'latest' });
      const tagged = images.filter((i) => i.tags.includes(tag));
      if (tagged.length > 0) return tagged;
    }
    const prefix = /^(?:sha256:)?([a-f0-9]+)$/.exec(refOrId);
    if (prefix) return images.filter((i) => digestHex(i.id).startsWith(prefix[1] as string));
    return [];
  }

  /**
   * The image a tag reference names, loading only that image (a build resolves its base this way
   * on every run; `listImages` reads and verifies every image's manifest and config). Undefined
   * when `refOrId` is not a tag reference or no tag matches: `find` then does the full search.
   */
  async #findTagged(refOrId: string): Promise<StoredImage | undefined> {
    if (/^(sha256:)?[a-f0-9]+$/.test(refOrId)) return undefined; // an ID or ID prefix
    let ref: ImageReference;
    try {
      ref = parseReference(refOrId);
    } catch {
      return undefined;
    }
    if (ref.digest !== undefined) return undefined;
    const tag = formatReference({ ...ref, tag: ref.tag ?? 'latest' });
    const index = await this.readIndex();
    const named = index.manifests.find((m) => refName(m) === tag);
    if (!named) return undefined;
    return this.#loadImage([
      named,
      ...index.manifests.filter((m) => m !== named && m.digest === named.digest),
    ]);
  }

  /** Every digest reachable from the index: manifests, nested indexes, configs, layers. */
  async #reachable(index: ImageIndex, problems?: string[]): Promise<Set<Digest>> {
    const seen = new Set<Digest>();
    const visit = async (d: Descriptor, from: string): Promise<void> => {
      if (seen.has(d.digest)) return;
      seen.add(d.digest);
      const kind = classifyMediaType(d.mediaType);
      if (kind !== 'manifest' && kind !== 'index') return;
      let bytes: Buffer;
      try {
        bytes = await this.readBlob(d.digest);
      } catch (error) {
        problems?.push(`${from}: ${(error as Error).message}`);
        return;
      }
      try {
        if (kind === 'index') {
          const child = parseJsonAs(bytes, isImageIndex, `index ${d.digest}`);
          for (const m of child.manifests)
            if (await this.hasBlob(m.digest)) await visit(m, `index ${d.digest}`);
        } else {
          const manifest = parseJsonAs(bytes, isManifest, `manifest ${d.digest}`);
          for (const b of [manifest.config, ...manifest.layers]) await visit(b, `manifest ${d.digest}`);
          parseJsonAs(
            await this.readBlob(manifest.config.digest),
            isImageConfig,
            `config ${manifest.config.digest}`,
          );
        }
      } catch (error) {
        problems?.push(`${from}: ${(error as Error).message}`);
      }
    };
    for (const m of index.manifests) await visit(m, refName(m) ?? `image ${m.digest}`);
    return seen;
  }

  async #allBlobs(): Promise<Digest[]> {
    return (await readdir(this.#layout.blobDir)).map((hex) => `sha256:${hex}` as Digest);
  }

  /**
   * Removes blobs nothing references (no index entry reaches them, no live lease holds them).
   * `only` limits the candidates (used to undo a failed load). Returns the removed digests.
   */
  async collectGarbage(only?: Iterable<Digest>): Promise<Digest[]> {
    const lock = await this.#lock();
    try {
      const keep = await this.#reachable(await this.readIndex());
      for (const d of await leasedDigests(this.#layout.leaseDir, this.#lease)) keep.add(d);
      // The build cache's records and running builds keep their layer blobs alive too.
      for (const d of await cacheBlobRoots(dirname(this.dir))) if (isDigest(d)) keep.add(d);
      const removed: Digest[] = [];
      for (const d of only ?? (await this.#allBlobs())) {
        if (keep.has(d)) continue;
        await rm(blobPath(this.#layout, d), { force: true });
        await rm(sizePath(this.#layout, d), { force: true });
        removed.push(d);
      }
      if (removed.length > 0) syncDirSync(this.#layout.blobDir);
      return removed;
    } finally {
      await lock.release();
    }
  }

  /** How many blobs this instance has added to the store (kept or not). */
  get blobsAdded(): number {
    return this.#blobs.blobsAdded;
  }

  /** Removes the blobs this instance added that ended up unreferenced (after a failure, or spooled extras). */
  async discardUnreferenced(): Promise<Digest[]> {
    const candidates = this.#blobs.takeCreated();
    if (candidates.length === 0) return [];
    return this.collectGarbage(candidates);
  }

  /** Temp files whose writer is gone. */
  async #staleTemps(): Promise<{ path: string; size: number }[]> {
    const out: { path: string; size: number }[] = [];
    for (const name of await readdir(this.#layout.tmpDir)) {
      if (isOwnerAlive(name) === true) continue;
      const path = join(this.#layout.tmpDir, name);
      const s = await stat(path).catch(() => undefined);
      if (s) out.push({ path, size: s.size });
    }
    return out;
  }

  /** Removes the temp files of writers that are gone (every command does on opening the root). */
  async removeStaleTemps(): Promise<number> {
    let removed = 0;
    for (const t of await this.#staleTemps()) {
      await rm(t.path, { force: true });
      removed++;
    }
    return removed;
  }

  /**
   * Verifies every blob against its digest and every reference from the index; removes stale
   * temp files, stale leases and unreferenced blobs. Corrupt blobs are reported, not removed.
   */
  async fsck(): Promise<FsckReport> {
    const problems: string[] = [];
    const removedTempFiles = await this.removeStaleTemps();
    const blobs = await this.#allBlobs();
    for (const d of blobs) {
      if (!isDigest(d)) {
        problems.push(`blobs/sha256/${digestHex(d)}: not a sha256 digest name`);
        continue;
      }
      const { digest } = await hashFile(this.blobPath(d));
      if (digest !== d) problems.push(`blob ${d}: content has digest ${digest}`);
    }
    let index: ImageIndex;
    try {
      index = await this.readIndex();
    } catch (error) {
      problems.push((error as Error).message);
      return { blobs: blobs.length, images: 0, problems, removedTempFiles, removedBlobs: [] };
    }
    const reachable = await this.#reachable(index, problems);
    for (const d of reachable) {
      if (!(await this.hasBlob(d))) problems.push(`blob ${d} is referenced but missing`);
    }
    for (const m of index.manifests) {
      const name = refName(m);
      if (name !== undefined) {
        try {
          parseReference(name);
        } catch {
          problems.push(`index.json: invalid tag ${JSON.stringify(name)}`);
        }
      }
    }
    const removedBlobs = problems.length === 0 ? await this.collectGarbage() : [];
    return {
      blobs: blobs.length,
      images: new Set(index.manifests.map((m) => m.digest)).size,
      problems,
      removedTempFiles,
      removedBlobs,
    };
  }

  /** Disk usage of the store. */
  async diskUsage(): Promise<DiskUsage> {
    const index = await this.readIndex();
    const reachable = await this.#reachable(index);
    let bytes = 0;
    let unreferencedBlobs = 0;
    let unreferencedBytes = 0;
    const blobs = await this.#allBlobs();
    for (const d of blobs) {
      const s = await stat(this.blobPath(d)).catch(() => undefined);
      if (!s) continue;
      bytes += s.size;
      if (!reachable.has(d)) {
        unreferencedBlobs++;
        unreferencedBytes += s.size;
      }
    }
    let tempFiles = 0;
    let tempBytes = 0;
    for (const name of await readdir(this.#layout.tmpDir)) {
      const s = await stat(join(this.#layout.tmpDir, name)).catch(() => undefined);
      if (!s) continue;
      tempFiles++;
      tempBytes += s.size;
    }
    return {
      images: new Set(index.manifests.map((m) => m.digest)).size,
      blobs: blobs.length,
      bytes,
      unreferencedBlobs,
      unreferencedBytes,
      tempFiles,
      tempBytes,
    };
  }
}

/** Normalises a user's tag argument to the full reference stored in index.json. */
export function normalizeTag(ref: string): string {
  const parsed = parseReference(ref);
  if (parsed.digest !== undefined)
    throw new StoreError(`refusing to create a tag with a digest reference: ${ref}`);
  return formatReference({ ...parsed, tag: parsed.tag ?? 'latest' });
}

/** Whether the index already says what `requests` would make it say. */
function isCommitted(index: ImageIndex, requests: CommitRequest[]): boolean {
  return requests.every((r) => {
    const { digest } = r.descriptor;
    if (r.tags.length === 0) return index.manifests.some((m) => m.digest === digest);
    return (
      r.tags.every((tag) => {
        const named = index.manifests.filter((m) => refName(m) === tag);
        return named.length === 1 && named[0]?.digest === digest;
      }) && !index.manifests.some((m) => m.digest === digest && refName(m) === undefined)
    );
  });
}

function removeTag(manifests: Descriptor[], tag: string): Descriptor[] {
  const removed = manifests.filter((m) => refName(m) === tag);
  const kept = manifests.filter((m) => refName(m) !== tag);
  // An image that loses its last tag stays, untagged (dangling), like Docker's `<none>` images.
  for (const r of removed) if (!kept.some((m) => m.digest === r.digest)) kept.push(stripAnnotations(r));
  return kept;
}
