// Public surface of exporter/: a solved build result leaves the build here (BuildKit's exporter/):
// as an image in the store, a docker or OCI archive, an OCI layout directory, or the final
// stage's filesystem as a directory or a tar.
export { writeFileOutput } from './destination.ts';
export { type ExportRequest, type ExportResult, exportBuild } from './export.ts';
export type { ExportedImage } from './image.ts';
export type { ArchiveOutput, FileTarget, ImageOutput, LocalOutput, Output, TarOutput } from './outputs.ts';
