// `build --metadata-file FILE`: what buildx writes there after a build (commands/build.go,
// decodeExporterResponse + writeMetadataFile): the image's digests and descriptor and its names,
// and, when BUILDX_METADATA_WARNINGS is true (buildx confutil.MetadataWarningsEnabled), the
// build's warnings as client.VertexWarning (Go field names; Short and Detail base64, as Go encodes
// []byte).
import { writeFile } from 'node:fs/promises';
import type { WarningEvent } from '../progress/index.ts';
import { pathError } from '../user-paths.ts';

export interface BuildMetadata {
  /** What the exporters answered (exporter/ exportBuild): the image's keys, when there is one. */
  response: Record<string, unknown>;
  warnings: readonly WarningEvent[];
  /** The Dockerfile, for each warning's SourceInfo. */
  source: { file: string; text: string };
}

export function metadataWarningsEnabled(env: NodeJS.ProcessEnv = process.env): boolean {
  return /^(1|t|T|TRUE|true|True)$/.test(env.BUILDX_METADATA_WARNINGS ?? '');
}

export async function writeBuildMetadata(path: string, metadata: BuildMetadata): Promise<void> {
  const out: Record<string, unknown> = { ...metadata.response };
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
