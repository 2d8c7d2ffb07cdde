/**
 * What the image exporters answer (BuildKit's ExporterResponse, exptypes keys), as buildx writes it
 * to `--metadata-file` once decoded (commands/build.go decodeExporterResponse): the image's
 * manifest and config digests, its descriptor and the names it was given.
 */
import type { ExportedImage } from './image.ts';

export function imageResponse(image: ExportedImage, names: string[]): Record<string, unknown> {
  const created = image.config.created;
  return {
    'containerimage.config.digest': image.id,
    'containerimage.descriptor': {
      mediaType: image.descriptor.mediaType,
      digest: image.descriptor.digest,
      size: image.descriptor.size,
      annotations: {
        'config.digest': image.id,
        ...(created ? { 'org.opencontainers.image.created': created } : {}),
      },
    },
    'containerimage.digest': image.descriptor.digest,
    ...(names.length > 0 ? { 'image.name': names.join(',') } : {}),
  };
}
