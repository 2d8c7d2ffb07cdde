/**
 * OCI image-spec and Docker image-manifest v2 schema 2 formats: media types, the JSON shapes, and
 * type guards that validate what is read from disk or from archives (a trust boundary: a value
 * that passes a guard has every field the rest of the code relies on, with the right type).
 * Fields we do not use are kept as they are (`[key: string]: unknown`), so that a config read and
 * written back is byte-identical when untouched.
 */
import { StoreError } from './errors.ts';

/** A content address: `sha256:` + 64 lowercase hex digits. Only sha256 is accepted. */
export type Digest = `sha256:${string}`;

export const MediaType = {
  ociLayout: 'application/vnd.oci.layout.header.v1+json',
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  ociConfig: 'application/vnd.oci.image.config.v1+json',
  ociLayer: 'application/vnd.oci.image.layer.v1.tar',
  ociLayerGzip: 'application/vnd.oci.image.layer.v1.tar+gzip',
  ociLayerZstd: 'application/vnd.oci.image.layer.v1.tar+zstd',
  ociLayerNondistributable: 'application/vnd.oci.image.layer.nondistributable.v1.tar',
  ociLayerNondistributableGzip: 'application/vnd.oci.image.layer.nondistributable.v1.tar+gzip',
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerManifestList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  dockerConfig: 'application/vnd.docker.container.image.v1+json',
  dockerLayerGzip: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
  dockerLayer: 'application/vnd.docker.image.rootfs.diff.tar',
  dockerForeignLayerGzip: 'application/vnd.docker.image.rootfs.foreign.diff.tar.gzip',
} as const;

/** Annotation holding a tag: in our store, the full normalised reference; in saved archives, the tag. */
export const RefNameAnnotation = 'org.opencontainers.image.ref.name';
/** containerd's (and Docker ≥ 25's) annotation with the full image name in OCI archives. */
export const ContainerdNameAnnotation = 'io.containerd.image.name';

const manifestTypes: ReadonlySet<string> = new Set([MediaType.ociManifest, MediaType.dockerManifest]);
const indexTypes: ReadonlySet<string> = new Set([MediaType.ociIndex, MediaType.dockerManifestList]);
const configTypes: ReadonlySet<string> = new Set([MediaType.ociConfig, MediaType.dockerConfig]);
const layerTypes: ReadonlyMap<string, LayerCompression> = new Map([
  [MediaType.ociLayer, 'none'],
  [MediaType.ociLayerNondistributable, 'none'],
  [MediaType.dockerLayer, 'none'],
  [MediaType.ociLayerGzip, 'gzip'],
  [MediaType.ociLayerNondistributableGzip, 'gzip'],
  [MediaType.dockerLayerGzip, 'gzip'],
  [MediaType.dockerForeignLayerGzip, 'gzip'],
  [MediaType.ociLayerZstd, 'zstd'],
]);

type LayerCompression = 'none' | 'gzip' | 'zstd';

/** OS/architecture a manifest is built for (image-spec `platform`). */
export interface Platform {
  os: string;
  architecture: string;
  variant?: string;
  'os.version'?: string;
  'os.features'?: string[];
}

/** A typed pointer to a blob: its media type, digest and exact size in bytes. */
export interface Descriptor {
  mediaType: string;
  digest: Digest;
  size: number;
  annotations?: Record<string, string>;
  platform?: Platform;
  urls?: string[];
}

/** An image manifest (OCI or Docker schema 2): one config blob plus the layer blobs, bottom first. */
export interface Manifest {
  schemaVersion: 2;
  mediaType?: string;
  config: Descriptor;
  layers: Descriptor[];
  annotations?: Record<string, string>;
  [key: string]: unknown;
}

/** An image index (OCI) or manifest list (Docker): pointers to manifests, usually one per platform. */
export interface ImageIndex {
  schemaVersion: 2;
  mediaType?: string;
  manifests: Descriptor[];
  annotations?: Record<string, string>;
  [key: string]: unknown;
}

/** The runtime defaults an image carries (`config` inside the image config). All optional. */
export interface ContainerConfig {
  User?: string;
  ExposedPorts?: Record<string, object>;
  Env?: string[];
  Entrypoint?: string[] | null;
  Cmd?: string[] | null;
  Volumes?: Record<string, object>;
  WorkingDir?: string;
  Labels?: Record<string, string>;
  StopSignal?: string;
  [key: string]: unknown;
}

/** One build step of the image; `empty_layer` steps made no layer (ENV, CMD…). */
export interface History {
  created?: string;
  created_by?: string;
  author?: string;
  comment?: string;
  empty_layer?: boolean;
}

/**
 * The image configuration blob. Its digest is the image ID (as in Docker). `rootfs.diff_ids` are
 * the sha256 of each *uncompressed* layer tar, in the same order as the manifest's layers.
 */
export interface ImageConfig {
  architecture: string;
  os: string;
  variant?: string;
  created?: string;
  author?: string;
  config?: ContainerConfig;
  rootfs: { type: 'layers'; diff_ids: Digest[] };
  history?: History[];
  [key: string]: unknown;
}

/** The `oci-layout` file at the top of an image layout. */
interface OciLayout {
  imageLayoutVersion: string;
}

/** One entry of a `docker save` archive's `manifest.json`. */
export interface DockerArchiveManifestEntry {
  Config: string;
  RepoTags: string[] | null;
  Layers: string[];
  [key: string]: unknown;
}

// ---- guards ----

type Json = Record<string, unknown>;

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function isStringArray(v: unknown): v is string[] {
  return Array.isArray(v) && v.every((s) => typeof s === 'string');
}

function isStringMap(v: unknown): v is Record<string, string> {
  return isObject(v) && Object.values(v).every((s) => typeof s === 'string');
}

/** True for a well-formed sha256 digest. */
export function isDigest(v: unknown): v is Digest {
  return typeof v === 'string' && /^sha256:[a-f0-9]{64}$/.test(v);
}

/** The 64 hex digits of a digest. */
export function digestHex(d: Digest): string {
  return d.slice('sha256:'.length);
}

function isPlatform(v: unknown): v is Platform {
  return (
    isObject(v) &&
    typeof v.os === 'string' &&
    typeof v.architecture === 'string' &&
    (v.variant === undefined || typeof v.variant === 'string')
  );
}

function isDescriptor(v: unknown): v is Descriptor {
  return (
    isObject(v) &&
    typeof v.mediaType === 'string' &&
    isDigest(v.digest) &&
    typeof v.size === 'number' &&
    Number.isSafeInteger(v.size) &&
    v.size >= 0 &&
    (v.annotations === undefined || isStringMap(v.annotations)) &&
    (v.platform === undefined || isPlatform(v.platform)) &&
    (v.urls === undefined || isStringArray(v.urls))
  );
}

export function isManifest(v: unknown): v is Manifest {
  return (
    isObject(v) &&
    v.schemaVersion === 2 &&
    (v.mediaType === undefined || manifestTypes.has(v.mediaType as string)) &&
    isDescriptor(v.config) &&
    Array.isArray(v.layers) &&
    v.layers.every(isDescriptor) &&
    (v.annotations === undefined || isStringMap(v.annotations))
  );
}

export function isImageIndex(v: unknown): v is ImageIndex {
  return (
    isObject(v) &&
    v.schemaVersion === 2 &&
    (v.mediaType === undefined || indexTypes.has(v.mediaType as string)) &&
    Array.isArray(v.manifests) &&
    v.manifests.every(isDescriptor) &&
    (v.annotations === undefined || isStringMap(v.annotations))
  );
}

function isHistory(v: unknown): v is History {
  return (
    isObject(v) &&
    (v.created === undefined || typeof v.created === 'string') &&
    (v.created_by === undefined || typeof v.created_by === 'string') &&
    (v.comment === undefined || typeof v.comment === 'string') &&
    (v.empty_layer === undefined || typeof v.empty_layer === 'boolean')
  );
}

function isContainerConfig(v: unknown): v is ContainerConfig {
  if (v === null) return true; // Docker writes `"config": null` for `FROM scratch` imports
  if (!isObject(v)) return false;
  const optionalArray = (x: unknown) => x === undefined || x === null || isStringArray(x);
  return (
    optionalArray(v.Env) &&
    optionalArray(v.Cmd) &&
    optionalArray(v.Entrypoint) &&
    (v.User === undefined || typeof v.User === 'string') &&
    (v.WorkingDir === undefined || typeof v.WorkingDir === 'string') &&
    (v.Labels === undefined || v.Labels === null || isStringMap(v.Labels))
  );
}

export function isImageConfig(v: unknown): v is ImageConfig {
  return (
    isObject(v) &&
    typeof v.architecture === 'string' &&
    typeof v.os === 'string' &&
    (v.created === undefined || typeof v.created === 'string') &&
    (v.config === undefined || isContainerConfig(v.config)) &&
    isObject(v.rootfs) &&
    v.rootfs.type === 'layers' &&
    Array.isArray(v.rootfs.diff_ids) &&
    v.rootfs.diff_ids.every(isDigest) &&
    (v.history === undefined ||
      v.history === null ||
      (Array.isArray(v.history) && v.history.every(isHistory)))
  );
}

export function isOciLayout(v: unknown): v is OciLayout {
  return isObject(v) && typeof v.imageLayoutVersion === 'string';
}

export function isDockerArchiveManifest(v: unknown): v is DockerArchiveManifestEntry[] {
  return (
    Array.isArray(v) &&
    v.every(
      (e) =>
        isObject(e) &&
        typeof e.Config === 'string' &&
        (e.RepoTags === null || e.RepoTags === undefined || isStringArray(e.RepoTags)) &&
        isStringArray(e.Layers),
    )
  );
}

/** What kind of document a descriptor's media type names; `undefined` for unknown types. */
export function classifyMediaType(mediaType: string): 'manifest' | 'index' | 'config' | 'layer' | undefined {
  if (manifestTypes.has(mediaType)) return 'manifest';
  if (indexTypes.has(mediaType)) return 'index';
  if (configTypes.has(mediaType)) return 'config';
  if (layerTypes.has(mediaType)) return 'layer';
  return undefined;
}

/** The compression of a layer media type; throws a StoreError for anything that is not a layer. */
export function layerCompression(mediaType: string): LayerCompression {
  const c = layerTypes.get(mediaType);
  if (c === undefined) throw new StoreError(`unsupported layer media type: ${mediaType}`);
  return c;
}

/**
 * Parses JSON read from a blob or an archive and checks it with `guard`. `what` names the
 * document in the one-line error ("invalid image config in archive.tar: …").
 */
export function parseJsonAs<T>(text: string | Uint8Array, guard: (v: unknown) => v is T, what: string): T {
  let value: unknown;
  try {
    value = JSON.parse(typeof text === 'string' ? text : Buffer.from(text).toString('utf8'));
  } catch (error) {
    throw new StoreError(`invalid ${what}: ${(error as Error).message}`);
  }
  if (!guard(value)) throw new StoreError(`invalid ${what}: unexpected structure`);
  return value;
}

/** The platform of the machine we run on, in OCI terms (`amd64`, `arm64`…). */
export function hostPlatform(): Platform {
  const arch: Record<string, string> = {
    x64: 'amd64',
    arm64: 'arm64',
    arm: 'arm',
    ia32: '386',
    s390x: 's390x',
    ppc64: 'ppc64le',
  };
  return { os: 'linux', architecture: arch[process.arch] ?? process.arch };
}
