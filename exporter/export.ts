/**
 * A build's result through each of its outputs, in the order given (BuildKit runs one exporter
 * per `-o`): the image is made once when any output needs it (image, docker, oci), the filesystem
 * outputs read the final stage's layers. Pushing is left to the caller, which knows the terminal
 * and the registry settings: the result says which names to push.
 */
import type { ImageStore } from '../image/index.ts';
import { exportArchive } from './archive.ts';
import { exportFilesystem } from './filesystem.ts';
import { assembleImage, type ExportedImage, type ImageRequest, storeImage } from './image.ts';
import type { Output } from './outputs.ts';
import { imageResponse } from './response.ts';

export interface ExportRequest extends ImageRequest {
  root: string;
  store: ImageStore;
  outputs: Output[];
  /** SOURCE_DATE_EPOCH in seconds, when the build has one. */
  epochSeconds?: number;
  /** The build's platform (`linux/amd64`). */
  platform: string;
  /** Where `dest=-` outputs write. */
  stdout: NodeJS.WritableStream;
}

export interface ExportResult {
  /** The image, when an output made one. */
  image?: ExportedImage;
  /** The names the store now gives it (image outputs). */
  stored: string[];
  /** The names to push (image outputs with push=true). */
  push: string[];
  /** The exporters' answer for --metadata-file (empty without an image). */
  response: Record<string, unknown>;
}

export async function exportBuild(request: ExportRequest): Promise<ExportResult> {
  const { store, root, stdout, outputs } = request;
  const needsImage = outputs.some((o) => o.type !== 'local' && o.type !== 'tar');
  const image = needsImage ? await assembleImage(store, request) : undefined;
  const stored: string[] = [];
  const push: string[] = [];
  const names: string[] = [];
  const add = (list: string[], more: string[]) => {
    for (const name of more) if (!list.includes(name)) list.push(name);
  };
  for (const output of outputs) {
    if (output.type === 'local' || output.type === 'tar') {
      await exportFilesystem(output, {
        root,
        store,
        layers: request.result.layers,
        platform: request.platform,
        stdout,
        ...(request.epochSeconds !== undefined ? { epoch: request.epochSeconds } : {}),
      });
      continue;
    }
    if (!image) throw new Error('no image to export');
    add(names, output.names);
    if (output.type === 'image') {
      await storeImage(store, image, output.names);
      add(stored, output.names);
      if (output.push) add(push, output.names);
    } else await exportArchive(output, image, { root, store, stdout });
  }
  return {
    ...(image ? { image } : {}),
    stored,
    push,
    response: image ? imageResponse(image, names) : {},
  };
}
