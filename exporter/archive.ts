/**
 * The archive outputs (`-o type=docker|oci`): the built image, untagged in the store, written as a
 * `docker save` tar (what `docker load` reads), an OCI layout tar, or an OCI layout directory
 * (`tar=false`). The formats themselves are image/'s (the same writers as `tbuild save`); here is
 * only which image, under which names, and where to.
 */
import { type ImageStore, writeArchive, writeOciLayoutDirectory } from '../image/index.ts';
import { writeFileOutput } from './destination.ts';
import type { ExportedImage } from './image.ts';
import type { ArchiveOutput } from './outputs.ts';

export async function exportArchive(
  output: ArchiveOutput,
  image: ExportedImage,
  request: { root: string; store: ImageStore; stdout: NodeJS.WritableStream },
): Promise<void> {
  const { store, root, stdout } = request;
  const requests = [{ image, tags: output.names }];
  const { target } = output;
  if (target.kind === 'directory') return writeOciLayoutDirectory(store, requests, target.path);
  if (target.kind === 'stdout') return writeArchive(store, requests, output.type, stdout);
  const expected = `a file for the ${output.type} archive (-o type=${output.type},dest=FILE)`;
  await writeFileOutput(root, target.path, expected, (out) =>
    writeArchive(store, requests, output.type, out),
  );
}
