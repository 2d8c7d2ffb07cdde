/**
 * Records of a layer blob's unpacked size (Docker's SIZE, layer-size.ts) in `<root>/image/sizes`,
 * made when the layer is made or arrives. By content digest, so never stale; garbage collection
 * removes one with its blob.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { readVerified, writeFileAtomicSync } from './blob-io.ts';
import { openLayer } from './layer-decompress.ts';
import { TarSizeCounter } from './layer-size.ts';
import type { Digest } from './oci.ts';
import { blobPath, type StoreLayout, sizePath } from './store-layout.ts';

/** Records a layer blob's unpacked size, once: the content decides it. */
export function recordLayerSize(layout: StoreLayout, digest: Digest, unpackedSize: number): void {
  const path = sizePath(layout, digest);
  if (existsSync(path)) return;
  writeFileAtomicSync(path, String(unpackedSize), layout.tmpDir);
}

/**
 * A layer blob's unpacked size: the record made when the layer was made or arrived. A layer
 * without one (a store from before the records, a blob from a cache import) is read once and
 * recorded; undefined when the blob is missing or no tar.
 */
export async function layerSize(layout: StoreLayout, digest: Digest): Promise<number | undefined> {
  const recorded = await readFile(sizePath(layout, digest), 'utf8').catch(() => undefined);
  if (recorded !== undefined && /^\d+$/.test(recorded)) return Number(recorded);
  const path = blobPath(layout, digest);
  if (!existsSync(path)) return undefined;
  let measured: number | undefined;
  try {
    const layer = await openLayer(readVerified(path, digest) as unknown as AsyncIterable<Uint8Array>);
    const counter = new TarSizeCounter();
    for await (const chunk of layer.tar) counter.write(chunk as Buffer);
    await layer.done;
    measured = counter.size();
  } catch {
    return undefined; // zstd, corrupt: no SIZE, as for a foreign blob
  }
  if (measured !== undefined) recordLayerSize(layout, digest, measured);
  return measured;
}
