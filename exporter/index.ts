// Public surface of exporter/: a solved build result leaves the build here — as an image in the
// store, (later) as docker/OCI archives, a local directory or a tar (BuildKit's exporter/).
export { type ExportedImage, exportImage } from './image.ts';
