/**
 * The store's content: blobs under `blobs/sha256/<hex>`, written through `tmp/` and leased until
 * an index entry references them.
 *
 * Crash safety: a blob is hashed while written to tmp/, verified, fsynced and renamed into
 * blobs/, so it appears whole or not at all; a killed writer leaves only a temp file (removed
 * when any command next opens the store, store-gc.ts) or an unreferenced blob (removed by `gc`
 * and `fsck`).
 */
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { closeSync, existsSync, fstatSync, openSync, readFileSync, renameSync, unlinkSync } from 'node:fs';
import { open, stat, unlink } from 'node:fs/promises';
import { createGunzip } from 'node:zlib';
import { syncDirSync, writeFileDurableSync } from '../files.ts';
import { digestOf, readVerified, tempName } from './blob-io.ts';
import { StoreError } from './errors.ts';
import { TarSizeCounter } from './layer-size.ts';
import { type Digest, isManifest, type Manifest, parseJsonAs } from './oci.ts';
import { recordLayerSize } from './store-layer-sizes.ts';
import { blobPath, fullDiskError, type StoreLayout } from './store-layout.ts';
import type { Lease } from './store-leases.ts';

/** What `putBlob` learnt while writing a blob. */
export interface BlobInfo {
  digest: Digest;
  size: number;
  /** The blob started with the gzip magic bytes. */
  gzip: boolean;
  /** sha256 of the decompressed content when `gzip` and `computeDiffId` was asked; else of the blob. */
  diffId: Digest | undefined;
  /** True when this call added the blob (it was not in the store before). */
  created: boolean;
  /** The unpacked size of the files in it (layer-size.ts), when measured and it is a tar. */
  unpackedSize?: number;
}

/** Options for `putBlob`. */
export interface PutBlobOptions {
  /** Fail (and keep nothing) unless the content has this digest. */
  digest?: Digest;
  /** Fail unless the content has exactly this many bytes. */
  size?: number;
  /**
   * When the content is gzip, also hash the decompressed bytes (layer diffIDs). Implies measuring
   * it as `layer` does when it turns out to be a tar (`load` cannot tell layers from configs).
   */
  computeDiffId?: boolean;
  /** The blob is a layer: measure the unpacked size of its files and record it (`layerSize`). */
  layer?: boolean;
  /** Names the source in error messages ("layer abc/layer.tar"). */
  what?: string;
}

const maxJsonBlob = 16 << 20;

/** Blobs up to this size are written in one synchronous go once complete (see putBlob). */
const smallBlobBytes = 1 << 20;

/** Reads and writes the blobs of one store, leasing what it writes to `lease`. */
export class BlobStore {
  readonly #layout: StoreLayout;
  readonly #lease: Lease;
  /** Blobs this instance added; candidates for `discardUnreferenced`. */
  readonly #created = new Set<Digest>();
  #blobsAdded = 0;

  constructor(layout: StoreLayout, lease: Lease) {
    this.#layout = layout;
    this.#lease = lease;
  }

  blobPath(digest: Digest): string {
    return blobPath(this.#layout, digest);
  }

  async hasBlob(digest: Digest): Promise<boolean> {
    try {
      await stat(this.blobPath(digest));
      return true;
    } catch {
      return false;
    }
  }

  /**
   * Streams `source` into the store. The content is hashed while written, checked against
   * `options.digest`/`size`, fsynced and renamed into place. On any failure nothing is added.
   */
  async putBlob(
    source: AsyncIterable<Uint8Array> | Uint8Array,
    options: PutBlobOptions = {},
  ): Promise<BlobInfo> {
    const what = options.what ?? 'blob';
    const tmp = tempName(this.#layout.tmpDir);
    // A small blob (a config, a manifest, the layer of a small step) is kept in memory and
    // written synchronously at the end, and only when the store does not have it yet (the config
    // and manifest of a cached rebuild are never written again): a dozen thread-pool round trips
    // (open, each write, fsync, close, the lease, the rename, the directory fsync) cost more than
    // writing it.
    const small: Uint8Array[] = [];
    let handle: Awaited<ReturnType<typeof open>> | undefined;
    const hash = createHash('sha256');
    let size = 0;
    let gzip: boolean | undefined;
    let inner: ReturnType<typeof createGunzip> | undefined;
    const innerHash = createHash('sha256');
    let innerError: Error | undefined;
    const measure = options.layer === true || options.computeDiffId === true;
    const counter = measure ? new TarSizeCounter() : undefined;
    let renamed = false;
    try {
      const chunks = source instanceof Uint8Array ? [source] : source;
      for await (const chunk of chunks) {
        if (chunk.length === 0) continue;
        if (gzip === undefined) {
          gzip = chunk.length >= 2 && chunk[0] === 0x1f && chunk[1] === 0x8b;
          if (gzip && measure) {
            inner = createGunzip();
            inner.on('data', (d: Buffer) => {
              innerHash.update(d);
              counter?.write(d);
            });
            inner.on('error', (e) => {
              innerError = e;
            });
          }
        }
        size += chunk.length;
        // Checked before anything is kept: a source that sends more than it declared (a hostile
        // registry streaming without end) is cut off here, never buffered or written past it.
        if (options.size !== undefined && size > options.size) {
          throw new StoreError(
            `${what}: size mismatch: more than the declared ${options.size} bytes (stopped reading)`,
          );
        }
        hash.update(chunk);
        if (inner && !innerError && !inner.write(chunk)) await waitDrain(inner, () => innerError);
        if (!gzip) counter?.write(chunk);
        if (handle === undefined && size <= smallBlobBytes) {
          small.push(chunk);
          continue;
        }
        if (handle === undefined) {
          handle = await open(tmp, 'wx', 0o644);
          for (const held of small.splice(0)) await handle.write(held);
        }
        await handle.write(chunk);
      }
      if (inner) {
        inner.end();
        if (!innerError) await waitEnd(inner, () => innerError);
        if (innerError) {
          if (options.computeDiffId)
            throw new StoreError(`${what}: corrupt gzip data: ${innerError.message}`);
          // Measured only (`layer`): a layer the store cannot read is refused where it is used.
        }
      }
      const digest: Digest = `sha256:${hash.digest('hex')}`;
      if (options.digest !== undefined && options.digest !== digest) {
        throw new StoreError(`${what}: digest mismatch: expected ${options.digest}, got ${digest}`);
      }
      if (options.size !== undefined && options.size !== size) {
        throw new StoreError(`${what}: size mismatch: expected ${options.size} bytes, got ${size}`);
      }
      if (handle !== undefined) {
        await handle.sync();
        await handle.close();
      }
      // Leased before it is looked up or renamed, so a concurrent gc never sees it unprotected.
      this.#lease.add(digest);
      const target = this.blobPath(digest);
      const existed = existsSync(target);
      if (!existed) {
        if (handle === undefined) writeFileDurableSync(tmp, Buffer.concat(small));
        renameSync(tmp, target);
        syncDirSync(this.#layout.blobDir);
        this.#created.add(digest);
        this.#blobsAdded++;
      } else if (handle !== undefined) unlinkSync(tmp);
      renamed = true;
      const diffId: Digest | undefined =
        inner && options.computeDiffId ? `sha256:${innerHash.digest('hex')}` : gzip ? undefined : digest;
      const unpackedSize = innerError ? undefined : counter?.size();
      if (unpackedSize !== undefined && size > 0) recordLayerSize(this.#layout, digest, unpackedSize);
      return {
        digest,
        size,
        gzip: gzip ?? false,
        diffId,
        created: !existed,
        ...(unpackedSize === undefined ? {} : { unpackedSize }),
      };
    } catch (error) {
      throw fullDiskError(this.#layout, error) ?? error;
    } finally {
      if (!renamed) {
        await handle?.close().catch(() => {});
        await unlink(tmp).catch(() => {});
      }
      inner?.destroy();
    }
  }

  /** A stream of the blob's bytes that errors at the end if they do not match the digest. */
  getBlob(digest: Digest, size?: number): NodeJS.ReadableStream {
    return readVerified(this.blobPath(digest), digest, size);
  }

  /** Reads a small blob whole (manifests, configs), verified. */
  async readBlob(digest: Digest): Promise<Buffer> {
    let data: Buffer;
    // Synchronous on purpose: these blobs are small, and listing images reads two per image;
    // through the thread pool each read cost four round trips (open, stat, read, close).
    try {
      const fd = openSync(this.blobPath(digest), 'r');
      try {
        const { size } = fstatSync(fd);
        if (size > maxJsonBlob)
          throw new StoreError(`blob ${digest} is too large to be a manifest or config`);
        data = readFileSync(fd);
      } finally {
        closeSync(fd);
      }
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
        throw new StoreError(`blob ${digest} is missing from the store`);
      }
      throw error;
    }
    if (digestOf(data) !== digest) throw new StoreError(`blob ${digest}: digest mismatch (corrupt store)`);
    return data;
  }

  async readManifest(digest: Digest): Promise<Manifest> {
    return parseJsonAs(await this.readBlob(digest), isManifest, `manifest ${digest}`);
  }

  /** How many blobs this instance has added to the store (kept or not). */
  get blobsAdded(): number {
    return this.#blobsAdded;
  }

  /** The blobs this instance added since the last call (candidates for discarding). */
  takeCreated(): Digest[] {
    const created = [...this.#created];
    this.#created.clear();
    return created;
  }
}

async function waitDrain(stream: NodeJS.WritableStream, failed: () => Error | undefined): Promise<void> {
  if (failed()) return;
  await Promise.race([once(stream, 'drain'), once(stream, 'error')]).catch(() => {});
}

async function waitEnd(stream: NodeJS.ReadableStream, failed: () => Error | undefined): Promise<void> {
  if (failed()) return;
  await Promise.race([once(stream, 'end'), once(stream, 'error')]).catch(() => {});
}
