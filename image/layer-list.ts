import type { Readable } from 'node:stream';
import { openLayer } from './layer-decompress.ts';
import { LayerError } from './layer-error.ts';
import { type LayerEntry, readTarEntries } from './layer-tar.ts';

/**
 * The entries of a layer blob (gzip or plain), in archive order, with names as stored. Contents
 * are skipped, so memory stays constant apart from the returned list. A blob that is not a
 * readable tar fails with a LayerError.
 */
export async function listLayer(blob: Readable | AsyncIterable<Uint8Array>): Promise<LayerEntry[]> {
  const layer = await openLayer(blob);
  const entries: LayerEntry[] = [];
  try {
    for await (const { entry } of readTarEntries(layer.tar)) entries.push(entry);
    await layer.done;
  } catch (error) {
    if (error instanceof LayerError) throw error;
    throw new LayerError('(archive)', `cannot read layer: ${(error as Error).message}`, { cause: error });
  }
  return entries;
}
