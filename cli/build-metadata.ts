// `build --metadata-file FILE`: what buildx writes there after a build (commands/build.go,
// decodeExporterResponse + writeMetadataFile): the image's digests and descriptor and its names,
// and, when BUILDX_METADATA_WARNINGS is true (buildx confutil.MetadataWarningsEnabled), the
// build's warnings as client.VertexWarning (Go field names; Short and Detail base64, as Go encodes
// []byte).
import { writeFile } from 'node:fs/promises';
import type { Descriptor } from '../image/index.ts';
import type { WarningEvent } from '../progress/index.ts';
import { pathError } from '../user-paths.ts';

export interface BuildMetadata {
  configDigest: string;
  manifest: Descriptor;
  created?: string;
  /** The names given with -t, normalised. */
  names: string[];
  warnings: readonly WarningEvent[];
  /** The Dockerfile, for each warning's SourceInfo. */
  source: { file: string; text: string };
}

export function metadataWarningsEnabled(env: NodeJS.ProcessEnv = process.env): boolean {
  return /^(1|t|T|TRUE|true|True)$/.test(env.BUILDX_METADATA_WARNINGS ?? '');
}

export async function writeBuildMetadata(path: string, metadata: BuildMetadata): Promise<void> {
  const out: Record<string, unknown> = {
    'containerimage.config.digest': metadata.configDigest,
    'containerimage.descriptor': {
      mediaType: metadata.manifest.mediaType,
      digest: metadata.manifest.digest,
      size: metadata.manifest.size,
      annotations: {
        'config.digest': metadata.configDigest,
        ...(metadata.created ? { 'org.opencontainers.image.created': metadata.created } : {}),
      },
    },
    'containerimage.digest': metadata.manifest.digest,
  };
  if (metadata.names.length > 0) out['image.name'] = metadata.names.join(',');
  if (metadataWarningsEnabled() && metadata.warnings.length > 0) {
    const b64 = (text: string) => Buffer.from(text).toString('base64');
    out['buildx.build.warnings'] = metadata.warnings.map((w) => {
      const line = Number(/:(\d+)$/.exec(w.location ?? '')?.[1] ?? 0);
      return {
        Level: 1,
        Short: b64(w.message),
        ...(w.description ? { Detail: [b64(w.description)] } : {}),
        ...(w.url ? { URL: w.url } : {}),
        ...(line > 0
          ? {
              SourceInfo: {
                filename: metadata.source.file,
                data: b64(metadata.source.text),
                language: 'Dockerfile',
              },
              Range: [{ start: { line }, end: { line } }],
            }
          : {}),
      };
    });
  }
  // buildx indents with 2 spaces (json.MarshalIndent) and sorts the keys (a Go map).
  const sorted = Object.fromEntries(Object.entries(out).sort(([a], [b]) => (a < b ? -1 : 1)));
  await writeFile(path, `${JSON.stringify(sorted, null, 2)}`).catch((error: unknown) => {
    throw pathError(error, path, 'a file to write the build metadata to (--metadata-file)');
  });
}
