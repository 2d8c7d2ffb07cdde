/**
 * The store's references: `index.json`, one entry per (manifest, tag).
 *
 * Each entry is a manifest descriptor whose `org.opencontainers.image.ref.name` annotation is the
 * FULL normalised reference (`docker.io/library/busybox:latest`), not just the tag as in the
 * image-layout spec's example, because one store holds many repositories. A manifest appears once
 * per tag; an image without tags (dangling, `<none>`) appears once without the annotation. So
 * `skopeo copy oci:<root>/image:docker.io/library/busybox:latest …` works.
 *
 * Crash safety: index.json is replaced whole by rename (blob-io.ts writeFileAtomic), under the
 * store lock, so a reader sees the old index or the new one and two writers never lose each
 * other's update. The caller checks that every blob an entry needs is in place first.
 */
import { readFile, stat } from 'node:fs/promises';
import { writeFileAtomic } from './blob-io.ts';
import { StoreError } from './errors.ts';
import {
  type Descriptor,
  type Digest,
  type ImageIndex,
  isImageIndex,
  parseJsonAs,
  RefNameAnnotation,
} from './oci.ts';
import { formatReference, parseReference } from './reference.ts';
import { lockStore, type StoreLayout } from './store-layout.ts';

/** A request to record a manifest (already in the store) under some tags. */
export interface CommitRequest {
  descriptor: Descriptor;
  /** Full normalised references; empty for an untagged image. */
  tags: string[];
}

/** Normalises a user's tag argument to the full reference stored in index.json. */
export function normalizeTag(ref: string): string {
  const parsed = parseReference(ref);
  if (parsed.digest !== undefined)
    throw new StoreError(`refusing to create a tag with a digest reference: ${ref}`);
  return formatReference({ ...parsed, tag: parsed.tag ?? 'latest' });
}

/** The full reference an index entry is tagged with; undefined for a dangling image. */
export function refName(d: Descriptor): string | undefined {
  return d.annotations?.[RefNameAnnotation];
}

export function stripAnnotations(d: Descriptor): Descriptor {
  const out: Descriptor = { mediaType: d.mediaType, digest: d.digest, size: d.size };
  if (d.platform) out.platform = d.platform;
  return out;
}

export async function readIndex(layout: StoreLayout): Promise<ImageIndex> {
  const text = await readFile(layout.indexPath);
  return parseJsonAs(text, isImageIndex, `store index ${layout.indexPath}`);
}

async function writeIndex(layout: StoreLayout, index: ImageIndex): Promise<void> {
  await writeFileAtomic(layout.indexPath, `${JSON.stringify(index)}\n`, layout.tmpDir);
}

/** Creates an empty index.json unless there is one; under the lock, so two first opens agree. */
export async function ensureIndex(layout: StoreLayout): Promise<void> {
  try {
    await stat(layout.indexPath);
  } catch {
    const lock = await lockStore(layout);
    try {
      await stat(layout.indexPath).catch(() => writeIndex(layout, { schemaVersion: 2, manifests: [] }));
    } finally {
      await lock.release();
    }
  }
}

/** Points tags at manifests, all in one index update under the lock. */
export async function commitTags(layout: StoreLayout, requests: CommitRequest[]): Promise<void> {
  // Nothing to change (a cached rebuild with the same tags): no lock, no index write. A
  // concurrent retag racing this check is ordered after it, as if it came a moment later.
  if (isCommitted(await readIndex(layout), requests)) return;
  const lock = await lockStore(layout);
  try {
    const index = await readIndex(layout);
    for (const r of requests) {
      for (const tag of r.tags) index.manifests = removeTag(index.manifests, tag);
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
    await writeIndex(layout, index);
  } finally {
    await lock.release();
  }
}

/**
 * Removes one tag. When it was the image's last tag and `keepDangling` is false, the image's
 * index entry goes too and its manifest digest is returned (collect garbage next).
 */
export async function untag(
  layout: StoreLayout,
  ref: string,
  keepDangling: boolean,
): Promise<{ manifest: Digest; removedImage: boolean }> {
  const tag = normalizeTag(ref);
  const lock = await lockStore(layout);
  try {
    const index = await readIndex(layout);
    const entry = index.manifests.find((m) => refName(m) === tag);
    if (!entry) throw new StoreError(`No such image: ${ref}`);
    index.manifests = index.manifests.filter((m) => refName(m) !== tag);
    const still = index.manifests.some((m) => m.digest === entry.digest);
    if (!still && keepDangling) index.manifests.push(stripAnnotations(entry));
    await writeIndex(layout, index);
    return { manifest: entry.digest, removedImage: !still && !keepDangling };
  } finally {
    await lock.release();
  }
}

/** Removes every index entry of a manifest and returns the tags it had. */
export async function deleteImage(layout: StoreLayout, manifest: Digest): Promise<string[]> {
  const lock = await lockStore(layout);
  try {
    const index = await readIndex(layout);
    const tags = index.manifests.filter((m) => m.digest === manifest).map(refName);
    index.manifests = index.manifests.filter((m) => m.digest !== manifest);
    await writeIndex(layout, index);
    return tags.filter((t): t is string => t !== undefined);
  } finally {
    await lock.release();
  }
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
