/** What a spooled archive holds, and helpers to read it back (shared by the format readers). */
import { digestOf } from './blob-io.ts';
import { StoreError } from './errors.ts';
import type { Descriptor, Digest } from './oci.ts';
import type { BlobInfo, ImageStore } from './store.ts';

/** An image read from an archive, ready to commit. */
export interface LoadedImage {
  descriptor: Descriptor;
  id: Digest;
  /** Full normalised references. */
  tags: string[];
}

/** What the archive held, by path: spooled blobs, small files kept in memory, and links. */
export interface ArchiveContents {
  blobs: Map<string, BlobInfo>;
  small: Map<string, Buffer>;
  /** Symlinks and hardlinks: path → target path (already resolved relative to the archive root). */
  links: Map<string, string>;
  /** The store the blobs were spooled into. */
  store: ImageStore;
}

/** Archive path normalisation: no leading `./` or `/`, no trailing `/`. */
export function normalizeArchivePath(p: string): string {
  const parts: string[] = [];
  for (const part of p.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') parts.pop();
    else parts.push(part);
  }
  return parts.join('/');
}

/** Reads a file of the archive: from memory if small, else from the spooled blob (verified). */
export async function readArchiveFile(contents: ArchiveContents, path: string): Promise<Buffer | undefined> {
  const resolved = resolveLink(contents, path);
  const small = contents.small.get(resolved);
  if (small) return small;
  const blob = contents.blobs.get(resolved);
  return blob ? contents.store.readBlob(blob.digest) : undefined;
}

/** Follows links (bounded, to refuse loops). */
export function resolveLink(contents: ArchiveContents, path: string): string {
  let p = normalizeArchivePath(path);
  for (let i = 0; i < 16 && contents.links.has(p); i++) p = contents.links.get(p) as string;
  return p;
}

/** Puts a small in-memory file into the store, checking it against an expected digest. */
export async function putSmall(
  store: ImageStore,
  data: Buffer,
  what: string,
  expected?: Digest,
): Promise<BlobInfo> {
  if (expected !== undefined && digestOf(data) !== expected) {
    throw new StoreError(`${what}: digest mismatch: expected ${expected}, got ${digestOf(data)}`);
  }
  return store.putBlob(data, { what });
}
